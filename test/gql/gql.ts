/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Refresh($refreshToken: String!) {\n    refresh(refreshToken: $refreshToken) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n": typeof types.RefreshDocument,
    "\n  query Me {\n    me { id email name createdAt updatedAt }\n  }\n": typeof types.MeDocument,
    "\n  query Sessions {\n    sessions { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n  }\n": typeof types.SessionsDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
    "\n  mutation LogoutAll($exceptCurrent: Boolean, $currentPassword: String) {\n    logoutAll(exceptCurrent: $exceptCurrent, currentPassword: $currentPassword) { revokedCount revokedSessionIds }\n  }\n": typeof types.LogoutAllDocument,
    "\n  mutation RevokeSession($id: ID!, $currentPassword: String) {\n    revokeSession(id: $id, currentPassword: $currentPassword)\n  }\n": typeof types.RevokeSessionDocument,
    "\n  subscription SessionRevoked {\n    sessionRevoked { sessionId reason revokedAt current }\n  }\n": typeof types.SessionRevokedDocument,
    "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { revokedCount }\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation DeleteAccount($password: String!) {\n    deleteAccount(password: $password)\n  }\n": typeof types.DeleteAccountDocument,
    "\n  query SecurityEvents($first: Int, $after: String) {\n    securityEvents(first: $first, after: $after) {\n      events { id type at ipAddress deviceInfo sessionId current }\n      nextCursor\n    }\n  }\n": typeof types.SecurityEventsDocument,
    "\n  subscription SessionCreated {\n    sessionCreated { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }\n  }\n": typeof types.SessionCreatedDocument,
    "\n  mutation RenameSession($id: ID!, $deviceInfo: String!) {\n    renameSession(id: $id, deviceInfo: $deviceInfo) { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }\n  }\n": typeof types.RenameSessionDocument,
    "\n  subscription SessionUpdated {\n    sessionUpdated { id deviceInfo current }\n  }\n": typeof types.SessionUpdatedDocument,
    "\n  mutation ReportSession($id: ID!) {\n    reportSession(id: $id)\n  }\n": typeof types.ReportSessionDocument,
    "\n  query TimelineDevices {\n    securityEvents(first: 10) {\n      events { type deviceInfo sessionId sessionDeviceInfo current }\n    }\n  }\n": typeof types.TimelineDevicesDocument,
};
const documents: Documents = {
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n": types.RegisterDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Refresh($refreshToken: String!) {\n    refresh(refreshToken: $refreshToken) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n": types.RefreshDocument,
    "\n  query Me {\n    me { id email name createdAt updatedAt }\n  }\n": types.MeDocument,
    "\n  query Sessions {\n    sessions { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n  }\n": types.SessionsDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
    "\n  mutation LogoutAll($exceptCurrent: Boolean, $currentPassword: String) {\n    logoutAll(exceptCurrent: $exceptCurrent, currentPassword: $currentPassword) { revokedCount revokedSessionIds }\n  }\n": types.LogoutAllDocument,
    "\n  mutation RevokeSession($id: ID!, $currentPassword: String) {\n    revokeSession(id: $id, currentPassword: $currentPassword)\n  }\n": types.RevokeSessionDocument,
    "\n  subscription SessionRevoked {\n    sessionRevoked { sessionId reason revokedAt current }\n  }\n": types.SessionRevokedDocument,
    "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { revokedCount }\n  }\n": types.ChangePasswordDocument,
    "\n  mutation DeleteAccount($password: String!) {\n    deleteAccount(password: $password)\n  }\n": types.DeleteAccountDocument,
    "\n  query SecurityEvents($first: Int, $after: String) {\n    securityEvents(first: $first, after: $after) {\n      events { id type at ipAddress deviceInfo sessionId current }\n      nextCursor\n    }\n  }\n": types.SecurityEventsDocument,
    "\n  subscription SessionCreated {\n    sessionCreated { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }\n  }\n": types.SessionCreatedDocument,
    "\n  mutation RenameSession($id: ID!, $deviceInfo: String!) {\n    renameSession(id: $id, deviceInfo: $deviceInfo) { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }\n  }\n": types.RenameSessionDocument,
    "\n  subscription SessionUpdated {\n    sessionUpdated { id deviceInfo current }\n  }\n": types.SessionUpdatedDocument,
    "\n  mutation ReportSession($id: ID!) {\n    reportSession(id: $id)\n  }\n": types.ReportSessionDocument,
    "\n  query TimelineDevices {\n    securityEvents(first: 10) {\n      events { type deviceInfo sessionId sessionDeviceInfo current }\n    }\n  }\n": types.TimelineDevicesDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Refresh($refreshToken: String!) {\n    refresh(refreshToken: $refreshToken) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n"): (typeof documents)["\n  mutation Refresh($refreshToken: String!) {\n    refresh(refreshToken: $refreshToken) {\n      token\n      refreshToken\n      user { id email name createdAt updatedAt }\n      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me { id email name createdAt updatedAt }\n  }\n"): (typeof documents)["\n  query Me {\n    me { id email name createdAt updatedAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Sessions {\n    sessions { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n  }\n"): (typeof documents)["\n  query Sessions {\n    sessions { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogoutAll($exceptCurrent: Boolean, $currentPassword: String) {\n    logoutAll(exceptCurrent: $exceptCurrent, currentPassword: $currentPassword) { revokedCount revokedSessionIds }\n  }\n"): (typeof documents)["\n  mutation LogoutAll($exceptCurrent: Boolean, $currentPassword: String) {\n    logoutAll(exceptCurrent: $exceptCurrent, currentPassword: $currentPassword) { revokedCount revokedSessionIds }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeSession($id: ID!, $currentPassword: String) {\n    revokeSession(id: $id, currentPassword: $currentPassword)\n  }\n"): (typeof documents)["\n  mutation RevokeSession($id: ID!, $currentPassword: String) {\n    revokeSession(id: $id, currentPassword: $currentPassword)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SessionRevoked {\n    sessionRevoked { sessionId reason revokedAt current }\n  }\n"): (typeof documents)["\n  subscription SessionRevoked {\n    sessionRevoked { sessionId reason revokedAt current }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { revokedCount }\n  }\n"): (typeof documents)["\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { revokedCount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAccount($password: String!) {\n    deleteAccount(password: $password)\n  }\n"): (typeof documents)["\n  mutation DeleteAccount($password: String!) {\n    deleteAccount(password: $password)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SecurityEvents($first: Int, $after: String) {\n    securityEvents(first: $first, after: $after) {\n      events { id type at ipAddress deviceInfo sessionId current }\n      nextCursor\n    }\n  }\n"): (typeof documents)["\n  query SecurityEvents($first: Int, $after: String) {\n    securityEvents(first: $first, after: $after) {\n      events { id type at ipAddress deviceInfo sessionId current }\n      nextCursor\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SessionCreated {\n    sessionCreated { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }\n  }\n"): (typeof documents)["\n  subscription SessionCreated {\n    sessionCreated { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RenameSession($id: ID!, $deviceInfo: String!) {\n    renameSession(id: $id, deviceInfo: $deviceInfo) { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }\n  }\n"): (typeof documents)["\n  mutation RenameSession($id: ID!, $deviceInfo: String!) {\n    renameSession(id: $id, deviceInfo: $deviceInfo) { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SessionUpdated {\n    sessionUpdated { id deviceInfo current }\n  }\n"): (typeof documents)["\n  subscription SessionUpdated {\n    sessionUpdated { id deviceInfo current }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReportSession($id: ID!) {\n    reportSession(id: $id)\n  }\n"): (typeof documents)["\n  mutation ReportSession($id: ID!) {\n    reportSession(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TimelineDevices {\n    securityEvents(first: 10) {\n      events { type deviceInfo sessionId sessionDeviceInfo current }\n    }\n  }\n"): (typeof documents)["\n  query TimelineDevices {\n    securityEvents(first: 10) {\n      events { type deviceInfo sessionId sessionDeviceInfo current }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;