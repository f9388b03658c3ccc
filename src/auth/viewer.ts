/** Who made the request: a verified token whose session is active. */
export interface Viewer {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

/** Where a request came from, recorded on the sessions it creates. */
export interface RequestInfo {
  ipAddress: string;
  userAgent: string;
}
