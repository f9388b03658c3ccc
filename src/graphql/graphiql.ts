import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions, YogaServerOptions } from 'graphql-yoga';

/**
 * GraphiQL on `GET /graphql` from a browser, served from the package's own
 * bundle (@graphql-yoga/render-graphiql) rather than Yoga's default, which
 * loads its scripts from a CDN: it works offline and behind strict networks.
 */
const options: GraphiQLOptions = { title: 'logout-all', subscriptionsProtocol: 'SSE' };

// The page inlines ~9 MB of scripts; the options never change, so render it once.
let page: string | undefined;
const render = (): string => (page ??= renderGraphiQL(options));

/** The Yoga options that serve GraphiQL; `enabled: false` serves none. */
export function graphiqlOptions(enabled: boolean): Pick<YogaServerOptions<object, object>, 'graphiql' | 'renderGraphiQL'> {
  return enabled ? { graphiql: options, renderGraphiQL: render } : { graphiql: false };
}
