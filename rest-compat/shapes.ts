import {
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLOutputType,
  type GraphQLType,
} from 'graphql';
import { schema } from '../src/schema/index.js';

/**
 * REST bodies are shaped by the GraphQL types themselves, so that `user` and
 * `session` carry exactly the GraphQL fields (docs/contract.md) and the OpenAPI schemas
 * are derived from the same place: one field list, not three.
 */

/** The GraphQL types REST answers with or accepts. */
export type OutputTypeName =
  | 'AuthPayload'
  | 'User'
  | 'Session'
  | 'LogoutAllPayload'
  | 'SessionRevokedEvent'
  | 'ChangePasswordPayload'
  | 'SecurityEvent'
  | 'SecurityEventConnection';
export type InputTypeName = 'RegisterInput' | 'LoginInput';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonSchema = { [key: string]: Json };

function outputType(name: OutputTypeName): GraphQLOutputType {
  const type = schema.getType(name);
  if (!isObjectType(type)) throw new Error(`${name} is not a GraphQL object type`);
  return type;
}

function serialize(type: GraphQLOutputType, value: unknown, path: string): Json {
  if (isNonNullType(type)) {
    // Every field REST serves is exposed as-is; a missing one is a bug, not a null.
    if (value === null || value === undefined) throw new Error(`REST shape: ${path} is missing`);
    return serialize(type.ofType, value, path);
  }
  if (value === null || value === undefined) return null;
  if (isListType(type)) {
    if (!Array.isArray(value)) throw new Error(`REST shape: ${path} is not a list`);
    return value.map((item, i) => serialize(type.ofType, item, `${path}[${i}]`));
  }
  // Scalars and enums go through the same serializers GraphQL uses (DateTime → a Date, which JSON writes as its ISO string).
  if (isScalarType(type) || isEnumType(type)) return type.serialize(value) as Json;
  if (isObjectType(type)) {
    const source = value as Record<string, unknown>;
    const out: { [key: string]: Json } = {};
    for (const [name, field] of Object.entries(type.getFields())) {
      out[name] = serialize(field.type, source[name], `${path}.${name}`);
    }
    return out;
  }
  throw new Error(`REST shape: cannot serialize ${String(type)} at ${path}`);
}

/** A resolver's value as the JSON GraphQL would print for the whole object. */
export function toJson(typeName: OutputTypeName, value: unknown): { [key: string]: Json } {
  return serialize(outputType(typeName), value, typeName) as { [key: string]: Json };
}

/** A reference to one of the OpenAPI document's schemas, which are these types. */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

function leafSchema(name: string): JsonSchema {
  switch (name) {
    case 'ID':
    case 'String':
      return { type: 'string' };
    case 'Int':
      return { type: 'integer' };
    case 'Float':
      return { type: 'number' };
    case 'Boolean':
      return { type: 'boolean' };
    case 'DateTime':
      return { type: 'string', format: 'date-time' };
    default:
      throw new Error(`OpenAPI: no JSON schema for scalar ${name}`);
  }
}

function typeSchema(type: GraphQLType): { schema: JsonSchema; required: boolean } {
  if (isNonNullType(type)) return { schema: typeSchema(type.ofType).schema, required: true };
  let schemaOf: JsonSchema;
  if (isListType(type)) schemaOf = { type: 'array', items: typeSchema(type.ofType).schema };
  else if (isScalarType(type)) schemaOf = leafSchema(type.name);
  else if (isEnumType(type)) schemaOf = { type: 'string', enum: type.getValues().map((v) => v.name) };
  else if (isObjectType(type) || isInputObjectType(type)) schemaOf = ref(type.name);
  else throw new Error(`OpenAPI: cannot describe ${String(type)}`);
  return { schema: schemaOf, required: false };
}

/**
 * The JSON schema of a GraphQL object or input type: its fields, non-null ones
 * required, nothing else allowed in responses. Input objects stay open, since
 * REST has always ignored unknown body fields.
 */
export function jsonSchemaOf(typeName: OutputTypeName | InputTypeName): JsonSchema {
  const type = schema.getType(typeName);
  if (!isObjectType(type) && !isInputObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const properties: { [key: string]: Json } = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(type.getFields())) {
    const described = typeSchema(field.type);
    // A nullable output field is always present, as null when it has no value (`nextCursor` on the last page).
    const schemaOf =
      isObjectType(type) && !described.required && typeof described.schema.type === 'string'
        ? { ...described.schema, type: [described.schema.type, 'null'] }
        : described.schema;
    properties[name] = field.description ? { ...schemaOf, description: field.description } : schemaOf;
    if (described.required) required.push(name);
  }
  return {
    type: 'object',
    properties,
    required,
    ...(isObjectType(type) ? { additionalProperties: false } : {}),
  };
}
