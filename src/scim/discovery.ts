// The SCIM discovery resources (RFC 7644 §4): what this service provider supports, its two resource
// types, and the attributes Gatehouse keeps of each (RFC 7643 §7), as a client reads them before it
// provisions anyone.
import { GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, USER_SCHEMA, MAX_EXTERNAL_ID_LENGTH } from '../domain/scim/user-model.ts';
import { MAX_COUNT } from '../domain/scim/service.ts';
import { MAX_PATCH_OPERATIONS } from '../domain/scim/patch.ts';

const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
interface Attribute {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: 'always' | 'default' | 'never' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: Attribute[];
  referenceTypes?: string[];
}

const attr = (name: string, description: string, more: Partial<Attribute> = {}): Attribute => ({
  name,
  type: 'string',
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...more,
});

const USER_ATTRIBUTES: Attribute[] = [
  attr('userName', 'The user’s email address: unique within the tenant, compared without letter case.', { required: true, uniqueness: 'server' }),
  attr('name', 'The account keeps one name: formatted (or givenName and familyName joined) is it.', {
    type: 'complex',
    subAttributes: [attr('formatted', 'The full name.'), attr('givenName', 'Given name; written into the one name.'), attr('familyName', 'Family name; written into the one name.')],
  }),
  attr('displayName', 'The account’s name, as the consoles show it.'),
  attr('active', 'false deactivates the account and ends its sessions; true reactivates it.', { type: 'boolean' }),
  attr('emails', 'The userName, as the one work email (read-only).', {
    multiValued: true,
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [attr('value', 'The email address.', { mutability: 'readOnly' }), attr('type', '"work".', { mutability: 'readOnly' }), attr('primary', 'Always true.', { type: 'boolean', mutability: 'readOnly' })],
  }),
  attr('roles', 'The account’s one role: owner, super_admin, admin, support or user.', {
    multiValued: true,
    type: 'complex',
    subAttributes: [attr('value', 'The role.', { caseExact: true }), attr('display', 'The role’s label.', { mutability: 'readOnly' }), attr('primary', 'Always true.', { type: 'boolean' })],
  }),
  attr('groups', 'The group of the account’s role (change it on the Group or by roles).', {
    multiValued: true,
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [
      attr('value', 'The group id (the role).', { mutability: 'readOnly' }),
      attr('display', 'The role’s label.', { mutability: 'readOnly' }),
      attr('$ref', 'The Group’s URI.', { type: 'reference', referenceTypes: ['Group'], mutability: 'readOnly' }),
    ],
  }),
];

const GROUP_ATTRIBUTES: Attribute[] = [
  attr('displayName', 'The role’s label (read-only: the groups are the roles).', { required: true, mutability: 'readOnly' }),
  attr('members', 'The tenant’s users holding this role; adding one gives them the role, removing one gives them the role user.', {
    multiValued: true,
    type: 'complex',
    subAttributes: [
      attr('value', 'The user id.', { mutability: 'immutable', caseExact: true }),
      attr('display', 'The user’s email address.', { mutability: 'readOnly' }),
      attr('$ref', 'The User’s URI.', { type: 'reference', referenceTypes: ['User'], mutability: 'immutable' }),
      attr('type', '"User".', { mutability: 'immutable' }),
    ],
  }),
];

export function scimDiscovery(baseUrl: string) {
  const meta = (resourceType: string, path: string) => ({ resourceType, location: `${baseUrl}${path}` });

  const serviceProviderConfig = {
    schemas: [SPC_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: `A client-credentials access token of a client bound to the tenant, with the "scim" scope. At most ${MAX_PATCH_OPERATIONS} operations per PATCH; externalId up to ${MAX_EXTERNAL_ID_LENGTH} characters.`,
        primary: true,
      },
    ],
    meta: meta('ServiceProviderConfig', '/ServiceProviderConfig'),
  };

  const userType = {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'An account of the tenant',
    schema: USER_SCHEMA,
    meta: meta('ResourceType', '/ResourceTypes/User'),
  };
  const groupType = {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'A role of the tenant (owner, super_admin, admin, support, user) and the users holding it',
    schema: GROUP_SCHEMA,
    meta: meta('ResourceType', '/ResourceTypes/Group'),
  };

  const userSchema = { schemas: [SCHEMA_SCHEMA], id: USER_SCHEMA, name: 'User', description: 'User Account', attributes: USER_ATTRIBUTES, meta: meta('Schema', `/Schemas/${USER_SCHEMA}`) };
  const groupSchema = { schemas: [SCHEMA_SCHEMA], id: GROUP_SCHEMA, name: 'Group', description: 'Group (a role)', attributes: GROUP_ATTRIBUTES, meta: meta('Schema', `/Schemas/${GROUP_SCHEMA}`) };

  const list = <T>(items: T[]) => ({ schemas: [LIST_RESPONSE_SCHEMA], totalResults: items.length, startIndex: 1, itemsPerPage: items.length, Resources: items });

  return {
    serviceProviderConfig,
    resourceTypes: list([userType, groupType]),
    resourceType: new Map<string, unknown>([
      ['User', userType],
      ['Group', groupType],
    ]),
    schemas: list([userSchema, groupSchema]),
    schema: new Map<string, unknown>([
      [USER_SCHEMA, userSchema],
      [GROUP_SCHEMA, groupSchema],
    ]),
  };
}
