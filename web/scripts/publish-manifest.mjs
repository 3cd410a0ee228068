// The API serves the app's operations by id (trusted documents): it reads the manifest from its own package, so
// that the Lambda asset carries it. tests/api/test_trusted_documents.py fails when the two copies differ.
import { copyFileSync } from 'node:fs';

copyFileSync('src/gql/persisted-documents.json', '../graphql/graphql_api/trusted_documents.json');
console.log('published src/gql/persisted-documents.json to graphql/graphql_api/trusted_documents.json');
