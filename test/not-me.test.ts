import { describe, expect, it } from 'vitest';
import { errorCodes, loginUser, ok, PASSWORD, registerUser } from './support/client.js';
import { ReportSessionDocument, RevokeSessionDocument, SessionsDocument, TimelineDevicesDocument } from './support/operations.js';
import { restClient, restError } from './support/rest.js';
import { useTestServer } from './support/server.js';
import { eventData, isEvent, openRestEvents } from './support/sse.js';

/** "This wasn't me" (issue 20 §5) over both APIs, and the timeline naming the device a revocation concerned. */
describe('reporting a session as not the user\'s', () => {
  const server = useTestServer();
  const api = restClient(server);

  it('reportSession revokes it (REVOKED) and records SESSION_REPORTED naming both devices; the own session or another user\'s is refused', async () => {
    const laptop = await registerUser(server.graphqlUrl, { deviceInfo: 'Laptop' });
    const intruder = await loginUser(server.graphqlUrl, { email: laptop.email, password: PASSWORD, deviceInfo: 'Strange phone' });
    const tablet = await loginUser(server.graphqlUrl, { email: laptop.email, password: PASSWORD, deviceInfo: 'Tablet' });
    const stranger = await registerUser(server.graphqlUrl, { deviceInfo: 'Stranger' });
    const stream = await openRestEvents(server, tablet.token);

    expect(await errorCodes(server.graphqlUrl, ReportSessionDocument, { id: laptop.session.id }, laptop.token)).toEqual(['BAD_USER_INPUT']);
    expect(await errorCodes(server.graphqlUrl, ReportSessionDocument, { id: stranger.session.id }, laptop.token)).toEqual(['NOT_FOUND']);
    expect((await ok(server.graphqlUrl, ReportSessionDocument, { id: intruder.session.id }, laptop.token)).reportSession).toBe(true);

    const revoked = await stream.until(isEvent('session-revoked'));
    expect(eventData(revoked)).toMatchObject({ sessionId: intruder.session.id, reason: 'REVOKED', current: false });
    expect((await ok(server.graphqlUrl, SessionsDocument, {}, laptop.token)).sessions.map((s) => s.deviceInfo)).toEqual(['Tablet', 'Laptop']);
    expect(await errorCodes(server.graphqlUrl, SessionsDocument, {}, intruder.token)).toEqual(['UNAUTHENTICATED']);

    // A plain revocation names the device signed out too, not only the one that acted.
    await ok(server.graphqlUrl, RevokeSessionDocument, { id: tablet.session.id }, laptop.token);
    const { events } = (await ok(server.graphqlUrl, TimelineDevicesDocument, {}, laptop.token)).securityEvents;
    expect(events.slice(0, 2)).toEqual([
      { type: 'SESSION_REVOKED', deviceInfo: 'Laptop', sessionId: tablet.session.id, sessionDeviceInfo: 'Tablet', current: false },
      { type: 'SESSION_REPORTED', deviceInfo: 'Laptop', sessionId: intruder.session.id, sessionDeviceInfo: 'Strange phone', current: false },
    ]);
    // Entries about the acting device itself name no other one.
    expect(events.find((e) => e.type === 'SIGNED_IN')?.sessionDeviceInfo).toBeNull();
    stream.close();
  });

  it('POST /api/auth/sessions/:id/report: 200 {success: true}; another user\'s session 404', async () => {
    const a = await api.register({ deviceInfo: 'Laptop' });
    const b = await api.login({ email: a.email, deviceInfo: 'Not mine' });
    const stranger = await api.register({ deviceInfo: 'Stranger' });
    const theirs = await api.post(`/api/auth/sessions/${stranger.session.id}/report`, { token: a.token });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(restError('NOT_FOUND'));
    const reported = await api.post(`/api/auth/sessions/${b.session.id}/report`, { token: a.token });
    expect(reported.status).toBe(200);
    expect(reported.body).toEqual({ success: true });
    const timeline = await api.get('/api/auth/security-events', { token: a.token });
    expect((timeline.body as { events: Array<Record<string, unknown>> }).events[0]).toMatchObject({
      type: 'SESSION_REPORTED',
      sessionId: b.session.id,
      deviceInfo: 'Laptop',
      sessionDeviceInfo: 'Not mine',
    });
  });
});
