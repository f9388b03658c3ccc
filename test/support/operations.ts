import { graphql } from '../gql/index.js';

/** Every operation the tests send, typed by GraphQL Code Generator (codegen.ts). */


export const RegisterDocument = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      token
      refreshToken
      user { id email name createdAt updatedAt }
      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }
    }
  }
`);

export const LoginDocument = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      token
      refreshToken
      user { id email name createdAt updatedAt }
      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }
    }
  }
`);

export const RefreshDocument = graphql(`
  mutation Refresh($refreshToken: String!) {
    refresh(refreshToken: $refreshToken) {
      token
      refreshToken
      user { id email name createdAt updatedAt }
      session { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }
    }
  }
`);

export const MeDocument = graphql(`
  query Me {
    me { id email name createdAt updatedAt }
  }
`);

export const SessionsDocument = graphql(`
  query Sessions {
    sessions { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt idleExpiresAt current }
  }
`);

export const LogoutDocument = graphql(`
  mutation Logout {
    logout
  }
`);

export const LogoutAllDocument = graphql(`
  mutation LogoutAll($exceptCurrent: Boolean, $currentPassword: String) {
    logoutAll(exceptCurrent: $exceptCurrent, currentPassword: $currentPassword) { revokedCount revokedSessionIds }
  }
`);

export const RevokeSessionDocument = graphql(`
  mutation RevokeSession($id: ID!, $currentPassword: String) {
    revokeSession(id: $id, currentPassword: $currentPassword)
  }
`);

export const SessionRevokedDocument = graphql(`
  subscription SessionRevoked {
    sessionRevoked { sessionId reason revokedAt current }
  }
`);

export const ChangePasswordDocument = graphql(`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { revokedCount }
  }
`);

export const DeleteAccountDocument = graphql(`
  mutation DeleteAccount($password: String!) {
    deleteAccount(password: $password)
  }
`);

export const SecurityEventsDocument = graphql(`
  query SecurityEvents($first: Int, $after: String) {
    securityEvents(first: $first, after: $after) {
      events { id type at ipAddress deviceInfo sessionId current }
      nextCursor
    }
  }
`);

export const SessionCreatedDocument = graphql(`
  subscription SessionCreated {
    sessionCreated { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }
  }
`);

export const RenameSessionDocument = graphql(`
  mutation RenameSession($id: ID!, $deviceInfo: String!) {
    renameSession(id: $id, deviceInfo: $deviceInfo) { id deviceInfo ipAddress userAgent lastActivity createdAt expiresAt current }
  }
`);

export const SessionUpdatedDocument = graphql(`
  subscription SessionUpdated {
    sessionUpdated { id deviceInfo current }
  }
`);

export const ReportSessionDocument = graphql(`
  mutation ReportSession($id: ID!) {
    reportSession(id: $id)
  }
`);

export const TimelineDevicesDocument = graphql(`
  query TimelineDevices {
    securityEvents(first: 10) {
      events { type deviceInfo sessionId sessionDeviceInfo current }
    }
  }
`);
