import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

// The typed operations and the persisted-documents manifest, generated from the API's schema.graphql.
// CODEGEN_OUT lets the drift check (scripts/check-codegen.mjs) generate into a temporary folder.
const out = process.env.CODEGEN_OUT ?? './src/gql/';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  generates: {
    [out]: {
      preset: 'client',
      // urql's document cache adds __typename to every selection; adding it here keeps the manifest's text (and
      // so its hashes) identical to what urql would send as full text.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      presetConfig: {
        fragmentMasking: false,
        // Each document carries its sha256 in __meta__.hash and persisted-documents.json maps hash -> text.
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        scalars: { Decimal: 'string', DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
      },
    },
  },
};

export default config;
