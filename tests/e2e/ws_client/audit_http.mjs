// The graphql-http package's server audits (GraphQL over HTTP conformance) against the API at argv[2]:
// one JSON line per audit, {id, name, status, reason}. The end-to-end test reads them.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
for (const result of results) {
  const reason = result.status === 'ok' ? null : result.reason;
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason }));
}
