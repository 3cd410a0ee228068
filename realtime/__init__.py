"""The realtime gateway: graphql-transport-ws over API Gateway WebSocket, and the fan-out of status changes."""
