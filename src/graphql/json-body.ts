import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { AppError } from '../errors.js';
import { readJsonBody } from '../http/json-body.js';
import { unreadableRequest } from './params.js';

/**
 * GraphQL POST bodies read by the same function as REST bodies
 * (src/http/json-body.ts), so invalid UTF-8 is BAD_USER_INPUT on both APIs
 * instead of U+FFFD here. Only JSON reaches Yoga: src/server.ts answers any
 * other POST with 415 first.
 */
export function useJsonBody(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST') return;
      setRequestParser(async (req) => {
        let body: unknown;
        try {
          body = await readJsonBody(req);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          throw unreadableRequest(error.message);
        }
        if (typeof body !== 'object' || body === null) {
          throw unreadableRequest('POST body must be a JSON object');
        }
        // An array is a batch, which Yoga refuses itself (batching is off).
        return body as GraphQLParams;
      });
    },
  };
}
