// Relying-party clients. The secret is generated (256 random bits) and stored only as its SHA-256 digest.
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db.ts';
import { clients } from '../schema.ts';
import { GatehouseError, conflict, notFound } from '../../domain/errors.ts';
import { isForeignKeyViolation, isUniqueViolation, isUuid } from './pg-errors.ts';

export type ClientRecord = typeof clients.$inferSelect;

export interface NewClient {
  clientId: string;
  name: string;
  metadata: Record<string, unknown>;
  secretHash: string | null;
  tenantId?: string | null | undefined;
  firstParty: boolean;
  requireMfa: boolean;
  requirePhishingResistantMfa?: boolean | undefined;
  mayIntrospect?: boolean | undefined;
}

export type ClientPatch = Partial<
  Pick<ClientRecord, 'name' | 'metadata' | 'secretHash' | 'tenantId' | 'firstParty' | 'requireMfa' | 'requirePhishingResistantMfa' | 'mayIntrospect' | 'disabled'>
>;

export interface ClientRepo {
  /** 409 `client_exists` when the client id is taken. */
  create(input: NewClient): Promise<ClientRecord>;
  find(clientId: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  /** Clients bound to one tenant. */
  listForTenant(tenantId: string): Promise<ClientRecord[]>;
  /** The updated client, or undefined when there is none with this id. */
  update(clientId: string, patch: ClientPatch): Promise<ClientRecord | undefined>;
  delete(clientId: string): Promise<boolean>;
}

export function createClientRepo(db: Db): ClientRepo {
  const tenantMissing = (tenantId: string | null | undefined) =>
    notFound(`The tenant ${tenantId ?? ''} does not exist.`, 'tenant_not_found');

  return {
    async create(input) {
      if (input.tenantId && !isUuid(input.tenantId)) throw tenantMissing(input.tenantId);
      try {
        const [row] = await db
          .insert(clients)
          .values({
            clientId: input.clientId,
            name: input.name,
            metadata: input.metadata,
            secretHash: input.secretHash,
            tenantId: input.tenantId ?? null,
            firstParty: input.firstParty,
            requireMfa: input.requireMfa,
            requirePhishingResistantMfa: input.requirePhishingResistantMfa ?? false,
            mayIntrospect: input.mayIntrospect ?? false,
          })
          .returning();
        if (!row) throw new GatehouseError('client_not_created', 500, 'The client could not be created.');
        return row;
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(`A client with id ${input.clientId} exists already.`, 'client_exists');
        if (isForeignKeyViolation(e)) throw tenantMissing(input.tenantId);
        throw e;
      }
    },

    async find(clientId) {
      const [row] = await db.select().from(clients).where(eq(clients.clientId, clientId));
      return row;
    },

    list: () => db.select().from(clients).orderBy(asc(clients.name), asc(clients.clientId)),

    async listForTenant(tenantId) {
      if (!isUuid(tenantId)) return [];
      return db.select().from(clients).where(eq(clients.tenantId, tenantId)).orderBy(asc(clients.name), asc(clients.clientId));
    },

    async update(clientId, patch) {
      if (patch.tenantId && !isUuid(patch.tenantId)) throw tenantMissing(patch.tenantId);
      const set: ClientPatch & { updatedAt: Date } = { updatedAt: new Date() };
      for (const key of ['name', 'metadata', 'secretHash', 'tenantId', 'firstParty', 'requireMfa', 'requirePhishingResistantMfa', 'mayIntrospect', 'disabled'] as const) {
        if (patch[key] !== undefined) Object.assign(set, { [key]: patch[key] });
      }
      try {
        const [row] = await db.update(clients).set(set).where(eq(clients.clientId, clientId)).returning();
        return row;
      } catch (e) {
        if (isForeignKeyViolation(e)) throw tenantMissing(patch.tenantId);
        throw e;
      }
    },

    async delete(clientId) {
      const rows = await db.delete(clients).where(eq(clients.clientId, clientId)).returning({ clientId: clients.clientId });
      return rows.length > 0;
    },
  };
}
