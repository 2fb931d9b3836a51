// oidc-provider storage in Redis, shared by every instance: consume is atomic (one winner for a code
// exchanged twice in parallel) and artifacts are indexed by grant, uid and user code.
// Keys, under `prefix`:
//   oidc:<Model>:<id>            hash { p: payload JSON, c: consumed at (epoch s) }, expiring with the artifact
//   oidc:grant:<grantId>         set of artifact keys of a grant, living as long as its longest member
//   oidc:uid:<Model>:<uid>       → id (Session.findByUid)
//   oidc:userCode:<Model>:<code> → id (DeviceCode.findByUserCode)
//   oidc:account:<accountId>     set of session ids (to end a user's sessions)
// On one server every write that touches an artifact and its indexes is one Lua script, so it is atomic.
// In a Redis Cluster these keys live in different slots (an artifact is found by its id alone, an index
// by its uid, grant or account alone, so no hash tag could place them together), and a script may
// touch the keys of one slot only: there every script touches one key, indexes are written before the
// artifact they point to and removed after it, and readers already check an index against the artifact
// it names. The key names are the same in both modes.
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import { isRedisCluster, luaScript, runScript, type RedisClient } from '../../store/redis.ts';
import { alreadyConsumed, payloadIndexes, refuseUnstorable, unstorable, type GatehouseAdapterClass } from './sql-adapter.ts';

const UPSERT = luaScript(`
local key, id, ttl = KEYS[1], ARGV[2], ARGV[3]
local previous = redis.call('HGET', key, 'c')
redis.call('DEL', key)
redis.call('HSET', key, 'p', ARGV[1])
if previous then
  redis.call('HSET', key, 'c', previous)
elseif ARGV[4] ~= '' then
  redis.call('HSET', key, 'c', ARGV[4])
end
if ttl ~= 'none' then redis.call('PEXPIRE', key, ttl) end

local function addMember(setKey, member)
  local existed = redis.call('EXISTS', setKey) == 1
  local current = redis.call('PTTL', setKey)
  redis.call('SADD', setKey, member)
  if ttl == 'none' then
    redis.call('PERSIST', setKey)
  elseif (not existed) or (current >= 0 and current < tonumber(ttl)) then
    redis.call('PEXPIRE', setKey, ttl)
  end
end
local function pointTo(indexKey)
  if ttl == 'none' then redis.call('SET', indexKey, id) else redis.call('SET', indexKey, id, 'PX', ttl) end
end
if ARGV[5] == '1' then addMember(KEYS[2], key) end
if ARGV[6] == '1' then pointTo(KEYS[3]) end
if ARGV[7] == '1' then pointTo(KEYS[4]) end
if ARGV[8] == '1' then addMember(KEYS[5], id) end
return 1`);

// Single winner: only the first consume of a live artifact sets its `c` field.
const CONSUME = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'c', ARGV[1])`);

const DESTROY = luaScript(`
local raw = redis.call('HGET', KEYS[1], 'p')
redis.call('DEL', KEYS[1])
if not raw then return 0 end
local ok, payload = pcall(cjson.decode, raw)
if not ok or type(payload) ~= 'table' then return 1 end
local base, model, id = ARGV[1], ARGV[2], ARGV[3]
local function dropPointer(indexKey)
  if redis.call('GET', indexKey) == id then redis.call('DEL', indexKey) end
end
if type(payload.uid) == 'string' then dropPointer(base .. 'uid:' .. model .. ':' .. payload.uid) end
if type(payload.userCode) == 'string' then dropPointer(base .. 'userCode:' .. model .. ':' .. payload.userCode) end
if type(payload.grantId) == 'string' then redis.call('SREM', base .. 'grant:' .. payload.grantId, KEYS[1]) end
if model == 'Session' and type(payload.accountId) == 'string' then
  redis.call('SREM', base .. 'account:' .. payload.accountId, id)
end
return 1`);

const REVOKE_GRANT = luaScript(`
local members = redis.call('SMEMBERS', KEYS[1])
for _, member in ipairs(members) do redis.call('DEL', member) end
redis.call('DEL', KEYS[1])
return #members`);

// A token with what oidc-provider reads right after it (one server only): its grant, and its session
// when the token ends with it. One round trip instead of four, and one instant for all three.
const READ_TOKEN_WITH_RELATED = luaScript(`
local token = redis.call('HMGET', KEYS[1], 'p', 'c')
if not token[1] then return {} end
local ok, payload = pcall(cjson.decode, token[1])
if not ok or type(payload) ~= 'table' then return {token} end
local base = ARGV[1]
local grant, sessionId, session = false, false, false
if type(payload.grantId) == 'string' then grant = redis.call('HMGET', base .. 'Grant:' .. payload.grantId, 'p', 'c') end
if payload.expiresWithSession == true and type(payload.sessionUid) == 'string' then
  sessionId = redis.call('GET', base .. 'uid:Session:' .. payload.sessionUid)
  if sessionId then session = redis.call('HMGET', base .. 'Session:' .. sessionId, 'p', 'c') end
end
return {token, grant, sessionId, session}`);

// The cluster's one-key scripts: the artifact alone (keeping its consumed mark), and one index member.
const WRITE_ARTIFACT = luaScript(`
local key, ttl = KEYS[1], ARGV[2]
local previous = redis.call('HGET', key, 'c')
redis.call('DEL', key)
redis.call('HSET', key, 'p', ARGV[1])
if previous then
  redis.call('HSET', key, 'c', previous)
elseif ARGV[3] ~= '' then
  redis.call('HSET', key, 'c', ARGV[3])
end
if ttl ~= 'none' then redis.call('PEXPIRE', key, ttl) end
return 1`);

const ADD_MEMBER = luaScript(`
local key, ttl = KEYS[1], ARGV[2]
local existed = redis.call('EXISTS', key) == 1
local current = redis.call('PTTL', key)
redis.call('SADD', key, ARGV[1])
if ttl == 'none' then
  redis.call('PERSIST', key)
elseif (not existed) or (current >= 0 and current < tonumber(ttl)) then
  redis.call('PEXPIRE', key, ttl)
end
return 1`);

const TAKE_PAYLOAD = luaScript(`
local raw = redis.call('HGET', KEYS[1], 'p')
redis.call('DEL', KEYS[1])
return raw`);

const DROP_POINTER = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

// Removes the members already deleted; the set goes once it is empty (a member added meanwhile keeps it).
const FORGET_MEMBERS = luaScript(`
if #ARGV > 0 then redis.call('SREM', KEYS[1], unpack(ARGV)) end
if redis.call('SCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) return 0 end
return 1`);

const flag = (value: unknown) => (value === null || value === undefined ? '0' : '1');

/** The tokens whose lookup is followed by their grant's and their session's (introspection, userinfo, refresh). */
const READ_WITH_RELATED = new Set(['AccessToken', 'RefreshToken']);

type StoredFields = readonly (string | null)[] | null;

/** A stored `{ p, c }` hash as oidc-provider's payload. */
function payloadOf(fields: StoredFields): AdapterPayload | undefined {
  const [raw, consumed] = fields ?? [];
  if (typeof raw !== 'string') return undefined;
  const payload = JSON.parse(raw) as AdapterPayload;
  return typeof consumed === 'string' ? { ...payload, consumed: Number(consumed) } : payload;
}

/**
 * What a token read brought along for the rest of the same request, by request (oidc-provider's context):
 * `Grant:<id>` and `uid:<session uid>` → the payload, or undefined for "not there". Each entry is taken
 * once, never outlives its request and is dropped by any write the request makes, so nothing is served
 * that the request did not read itself.
 */
const readAhead = new WeakMap<object, Map<string, AdapterPayload | undefined>>();

/** A write in this request makes what it read ahead stale: the next lookups read again. */
function forgetReadAhead(): void {
  const ctx: unknown = Provider.ctx;
  if (ctx) readAhead.delete(ctx);
}

function takeReadAhead(key: string): { payload: AdapterPayload | undefined } | undefined {
  const ctx: unknown = Provider.ctx;
  const entries = ctx ? readAhead.get(ctx) : undefined;
  if (!entries?.has(key)) return undefined;
  const payload = entries.get(key);
  entries.delete(key);
  return { payload };
}

export function createRedisAdapter(redis: RedisClient, prefix: string): GatehouseAdapterClass {
  const base = `${prefix}oidc:`;
  const artifactKey = (model: string, id: string) => `${base}${model}:${id}`;
  const grantKey = (grantId: string) => `${base}grant:${grantId}`;
  const uidKey = (model: string, uid: string) => `${base}uid:${model}:${uid}`;
  const userCodeKey = (model: string, userCode: string) => `${base}userCode:${model}:${userCode}`;
  const accountKey = (accountId: string) => `${base}account:${accountId}`;
  const cluster = isRedisCluster(redis);

  const read = async (model: string, id: string): Promise<AdapterPayload | undefined> => payloadOf(await redis.hmGet(artifactKey(model, id), ['p', 'c']));

  /** A token, and its grant and session kept for the lookups that follow it in this request. */
  const readWithRelated = async (model: string, id: string, ctx: object): Promise<AdapterPayload | undefined> => {
    const [token, grant, sessionId, session] = (await runScript(redis, READ_TOKEN_WITH_RELATED, [artifactKey(model, id)], [base])) as [StoredFields?, StoredFields?, (string | null)?, StoredFields?];
    const payload = payloadOf(token ?? null);
    if (!payload) return undefined;
    const entries = readAhead.get(ctx) ?? new Map<string, AdapterPayload | undefined>();
    if (typeof payload.grantId === 'string' && grant !== undefined) entries.set(`Grant:${payload.grantId}`, payloadOf(grant));
    if (payload.expiresWithSession === true && typeof payload.sessionUid === 'string' && sessionId !== undefined) {
      const stored = typeof sessionId === 'string' ? payloadOf(session ?? null) : undefined;
      entries.set(`uid:${payload.sessionUid}`, stored?.uid === payload.sessionUid ? stored : undefined);
    }
    readAhead.set(ctx, entries);
    return payload;
  };

  return class RedisAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    static async listSessionIdsForAccount(accountId: string): Promise<string[]> {
      const ids = await redis.sMembers(accountKey(accountId));
      const sessions = await Promise.all(ids.map(async (id) => ({ id, payload: await read('Session', id) })));
      const stale = sessions.filter((s) => s.payload?.accountId !== accountId).map((s) => s.id);
      if (stale.length > 0) await redis.sRem(accountKey(accountId), stale);
      return sessions.filter((s) => s.payload?.accountId === accountId).map((s) => s.id);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      forgetReadAhead();
      const indexes = payloadIndexes(this.model, payload);
      const ttl = typeof expiresIn === 'number' ? String(Math.max(1, Math.ceil(expiresIn * 1000))) : 'none';
      const consumed = payload.consumed ? String(typeof payload.consumed === 'number' ? payload.consumed : Math.floor(Date.now() / 1000)) : '';
      if (cluster) {
        const key = artifactKey(this.model, id);
        const px = ttl === 'none' ? undefined : { expiration: { type: 'PX' as const, value: Number(ttl) } };
        const pointTo = (indexKey: string) => (px ? redis.set(indexKey, id, px) : redis.set(indexKey, id));
        await Promise.all([
          indexes.grantId !== null && runScript(redis, ADD_MEMBER, [grantKey(indexes.grantId)], [key, ttl]),
          indexes.uid !== null && pointTo(uidKey(this.model, indexes.uid)),
          indexes.userCode !== null && pointTo(userCodeKey(this.model, indexes.userCode)),
          indexes.accountId !== null && runScript(redis, ADD_MEMBER, [accountKey(indexes.accountId)], [id, ttl]),
        ]);
        await runScript(redis, WRITE_ARTIFACT, [key], [JSON.stringify(payload), ttl, consumed]);
        return;
      }
      await runScript(
        redis,
        UPSERT,
        [
          artifactKey(this.model, id),
          grantKey(indexes.grantId ?? ''),
          uidKey(this.model, indexes.uid ?? ''),
          userCodeKey(this.model, indexes.userCode ?? ''),
          accountKey(indexes.accountId ?? ''),
        ],
        [
          JSON.stringify(payload),
          id,
          ttl,
          consumed,
          flag(indexes.grantId),
          flag(indexes.uid),
          flag(indexes.userCode),
          flag(indexes.accountId),
        ],
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(id);
      if (this.model === 'Grant') {
        const ahead = takeReadAhead(`Grant:${id}`);
        if (ahead) return ahead.payload;
      }
      const ctx: unknown = Provider.ctx;
      if (!cluster && ctx && READ_WITH_RELATED.has(this.model)) return readWithRelated(this.model, id, ctx);
      return read(this.model, id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(uid);
      if (this.model === 'Session') {
        const ahead = takeReadAhead(`uid:${uid}`);
        if (ahead) return ahead.payload;
      }
      const id = await redis.get(uidKey(this.model, uid));
      if (id === null) return undefined;
      const payload = await read(this.model, id);
      return payload?.uid === uid ? payload : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      refuseUnstorable(userCode);
      const id = await redis.get(userCodeKey(this.model, userCode));
      if (id === null) return undefined;
      const payload = await read(this.model, id);
      return payload?.userCode === userCode ? payload : undefined;
    }

    /** One winner: a second consume of the same artifact (parallel code exchange) fails with invalid_grant. */
    async consume(id: string): Promise<void> {
      forgetReadAhead();
      if (unstorable(id)) throw alreadyConsumed();
      const won = await runScript(redis, CONSUME, [artifactKey(this.model, id)], [String(Math.floor(Date.now() / 1000))]);
      if (Number(won) !== 1) throw alreadyConsumed();
    }

    async destroy(id: string): Promise<void> {
      forgetReadAhead();
      if (unstorable(id)) return;
      if (cluster) {
        const key = artifactKey(this.model, id);
        const raw = await runScript(redis, TAKE_PAYLOAD, [key], []);
        if (typeof raw !== 'string') return;
        const indexes = payloadIndexes(this.model, JSON.parse(raw) as AdapterPayload);
        await Promise.all([
          indexes.uid !== null && runScript(redis, DROP_POINTER, [uidKey(this.model, indexes.uid)], [id]),
          indexes.userCode !== null && runScript(redis, DROP_POINTER, [userCodeKey(this.model, indexes.userCode)], [id]),
          indexes.grantId !== null && redis.sRem(grantKey(indexes.grantId), key),
          this.model === 'Session' && indexes.accountId !== null && redis.sRem(accountKey(indexes.accountId), id),
        ]);
        return;
      }
      await runScript(redis, DESTROY, [artifactKey(this.model, id)], [base, this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      forgetReadAhead();
      if (cluster) {
        for (;;) {
          const members = await redis.sMembers(grantKey(grantId));
          await Promise.all(members.map((member) => redis.del(member)));
          if (Number(await runScript(redis, FORGET_MEMBERS, [grantKey(grantId)], members)) === 0) return;
        }
      }
      await runScript(redis, REVOKE_GRANT, [grantKey(grantId)], []);
    }
  };
}
