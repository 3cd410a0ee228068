// The SPA's realtime client, as a script: graphql-ws (the npm client the SPA uses) over the `ws` package.
//
//   node subscribe.mjs <ws url> <bearer token> <order id> [timeout seconds]
//
// Subscribes to orderStatusChanged(orderId) and prints one JSON line per event on stdout:
//   {"event": "connected"}                 the server acknowledged connection_init
//   {"status": "PLACED", "order": {...}}   each `next`, in the order received
//   {"error": ...}                         the subscription or the socket failed (exit 1)
//   {"timeout": <seconds>}                 no terminal status in time (exit 2)
// and exits 0 after a terminal status (COMPLETED or CANCELLED).

import { createClient } from "graphql-ws";
import WebSocket from "ws";

const TERMINAL = new Set(["COMPLETED", "CANCELLED"]);
const QUERY = `subscription ($orderId: ID!) {
  orderStatusChanged(orderId: $orderId) { id status cancellationReason }
}`;

const [url, token, orderId, timeoutArgument] = process.argv.slice(2);
if (!url || !token || !orderId) {
  console.error("usage: node subscribe.mjs <ws url> <bearer token> <order id> [timeout seconds]");
  process.exit(64);
}
const timeoutSeconds = Number(timeoutArgument ?? 30);

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  lazy: true,
  retryAttempts: 0,
  on: { connected: () => print({ event: "connected" }) },
});

let exitCode = null;
async function finish(code) {
  if (exitCode !== null) return;
  exitCode = code;
  clearTimeout(timer);
  await client.dispose();
  process.exit(code);
}

const timer = setTimeout(() => {
  print({ timeout: timeoutSeconds });
  void finish(2);
}, timeoutSeconds * 1000);

const describe = (error) => {
  if (Array.isArray(error)) return error; // GraphQL errors from an `error` message
  if (error && typeof error === "object" && "code" in error) return { code: error.code, reason: error.reason };
  return String(error);
};

client.subscribe(
  { query: QUERY, variables: { orderId } },
  {
    next: (result) => {
      if (result.errors) {
        print({ error: result.errors });
        void finish(1);
        return;
      }
      const order = result.data.orderStatusChanged;
      print({ status: order.status, order });
      if (TERMINAL.has(order.status)) void finish(0);
    },
    error: (error) => {
      print({ error: describe(error) });
      void finish(1);
    },
    complete: () => {
      if (exitCode === null) {
        print({ error: "the server completed the subscription before a terminal status" });
        void finish(1);
      }
    },
  },
);
