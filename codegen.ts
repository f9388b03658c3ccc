import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the operations the tests (our example client) use,
 * generated offline from the printed schema: `npm run codegen`.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/support/operations.ts'],
  generates: {
    'test/gql/': {
      preset: 'client',
      config: {
        scalars: { DateTime: 'string', ID: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
  ignoreNoDocuments: false,
  // Our tsconfig is NodeNext: relative imports need their .js extension.
  emitLegacyCommonJSImports: false,
};

export default config;
