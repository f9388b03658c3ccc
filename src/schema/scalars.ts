import { DateTimeResolver } from 'graphql-scalars';
import { builder } from './builder.js';

/**
 * ISO-8601 in UTC, as docs/contract.md says: `2026-11-28T13:43:40.000Z`. Only ever an
 * output here, so graphql-scalars' scalar (as in Pothos' complex-app example)
 * rather than a parser of our own that nothing calls.
 */
builder.addScalarType('DateTime', DateTimeResolver);
