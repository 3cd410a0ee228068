// Every operation the SPA sends. GraphQL Code Generator's client preset types them (src/gql) and lists them in
// src/gql/persisted-documents.json, the manifest of trusted documents (sha256 -> text).
import { graphql } from '../gql';

export const VehicleFieldsFragment = graphql(`
  fragment VehicleFields on Vehicle {
    id
    brand
    model
    year
    color
    price
    status
  }
`);

export const VehiclesPageQuery = graphql(`
  query VehiclesPage($status: VehicleStatus!, $first: Int!, $after: String) {
    vehicles(status: $status, first: $first, after: $after) {
      edges {
        cursor
        node {
          ...VehicleFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const VehicleQuery = graphql(`
  query Vehicle($id: ID!) {
    vehicle(id: $id) {
      ...VehicleFields
      createdAt
      updatedAt
    }
  }
`);

export const VehicleAvailabilitySubscription = graphql(`
  subscription VehicleAvailability {
    vehicleAvailabilityChanged {
      id
      status
    }
  }
`);

export const MeQuery = graphql(`
  query Me {
    me {
      id
      name
      cpf
      email
      phone
      address {
        street
        number
        complement
        neighborhood
        city
        state
        zipCode
      }
    }
  }
`);

export const RegisterClientMutation = graphql(`
  mutation RegisterClient($input: RegisterClientInput!) {
    registerClient(input: $input) {
      id
      name
      cpf
      email
    }
  }
`);

export const OrderFieldsFragment = graphql(`
  fragment OrderFields on Order {
    id
    status
    cancellationReason
    total
    placedAt
    updatedAt
    refundOwed
    items {
      kind
      productId
      description
      quantity
      unitPrice
      total
      status
      vehicle {
        id
      }
    }
    payment {
      code
      amount
      expiresAt
      status
      received
      brCode
      refunds {
        id
        amount
        status
        requestedAt
        completedAt
      }
    }
    invoice {
      number
      status
      url
      issuedAt
    }
    history {
      status
      event
      at
      detail
    }
  }
`);

export const PlaceOrderMutation = graphql(`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      ...OrderFields
    }
  }
`);

export const CancelOrderMutation = graphql(`
  mutation CancelOrder($id: ID!) {
    cancelOrder(id: $id) {
      ...OrderFields
    }
  }
`);

export const OrderQuery = graphql(`
  query Order($id: ID!) {
    order(id: $id) {
      ...OrderFields
    }
  }
`);

export const OrderStatusSubscription = graphql(`
  subscription OrderStatus($orderId: ID!) {
    orderStatusChanged(orderId: $orderId) {
      ...OrderFields
    }
  }
`);

export const InvoiceStatusSubscription = graphql(`
  subscription InvoiceStatus($orderId: ID!) {
    invoiceStatusChanged(orderId: $orderId) {
      number
      status
      url
      issuedAt
    }
  }
`);

export const OrdersQuery = graphql(`
  query Orders($first: Int!, $after: String) {
    orders(first: $first, after: $after) {
      edges {
        node {
          ...OrderFields
          client {
            name
            email
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const ProductsQuery = graphql(`
  query Products($first: Int!, $after: String) {
    products(first: $first, after: $after) {
      edges {
        node {
          id
          sku
          description
          unitPrice
          stockOnHand
          stockReserved
          stockAvailable
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CreateVehicleMutation = graphql(`
  mutation CreateVehicle($input: CreateVehicleInput!) {
    createVehicle(input: $input) {
      ...VehicleFields
    }
  }
`);

export const UpdateVehicleMutation = graphql(`
  mutation UpdateVehicle($id: ID!, $input: UpdateVehicleInput!) {
    updateVehicle(id: $id, input: $input) {
      ...VehicleFields
    }
  }
`);

export const CreateProductMutation = graphql(`
  mutation CreateProduct($input: CreateProductInput!) {
    createProduct(input: $input) {
      id
      sku
      description
      unitPrice
      stockOnHand
      stockReserved
      stockAvailable
    }
  }
`);

export const AdjustStockMutation = graphql(`
  mutation AdjustStock($productId: ID!, $delta: Int!) {
    adjustStock(productId: $productId, delta: $delta) {
      id
      stockOnHand
      stockReserved
      stockAvailable
    }
  }
`);
