/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment VehicleFields on Vehicle {\n    id\n    brand\n    model\n    year\n    color\n    price\n    status\n  }\n": typeof types.VehicleFieldsFragmentDoc,
    "\n  query VehiclesPage($status: VehicleStatus!, $first: Int!, $after: String) {\n    vehicles(status: $status, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...VehicleFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.VehiclesPageDocument,
    "\n  query Vehicle($id: ID!) {\n    vehicle(id: $id) {\n      ...VehicleFields\n      createdAt\n      updatedAt\n    }\n  }\n": typeof types.VehicleDocument,
    "\n  subscription VehicleAvailability {\n    vehicleAvailabilityChanged {\n      id\n      status\n    }\n  }\n": typeof types.VehicleAvailabilityDocument,
    "\n  query Me {\n    me {\n      id\n      name\n      cpf\n      email\n      phone\n      address {\n        street\n        number\n        complement\n        neighborhood\n        city\n        state\n        zipCode\n      }\n    }\n  }\n": typeof types.MeDocument,
    "\n  mutation RegisterClient($input: RegisterClientInput!) {\n    registerClient(input: $input) {\n      id\n      name\n      cpf\n      email\n    }\n  }\n": typeof types.RegisterClientDocument,
    "\n  fragment OrderFields on Order {\n    id\n    status\n    cancellationReason\n    total\n    placedAt\n    updatedAt\n    refundOwed\n    items {\n      kind\n      productId\n      description\n      quantity\n      unitPrice\n      total\n      status\n      vehicle {\n        id\n      }\n    }\n    payment {\n      code\n      amount\n      expiresAt\n      status\n      received\n      brCode\n      refunds {\n        id\n        amount\n        status\n        requestedAt\n        completedAt\n      }\n    }\n    invoice {\n      number\n      status\n      url\n      issuedAt\n    }\n    history {\n      status\n      event\n      at\n      detail\n    }\n  }\n": typeof types.OrderFieldsFragmentDoc,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      ...OrderFields\n    }\n  }\n": typeof types.PlaceOrderDocument,
    "\n  mutation CancelOrder($id: ID!) {\n    cancelOrder(id: $id) {\n      ...OrderFields\n    }\n  }\n": typeof types.CancelOrderDocument,
    "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n": typeof types.OrderDocument,
    "\n  subscription OrderStatus($orderId: ID!) {\n    orderStatusChanged(orderId: $orderId) {\n      ...OrderFields\n    }\n  }\n": typeof types.OrderStatusDocument,
    "\n  subscription InvoiceStatus($orderId: ID!) {\n    invoiceStatusChanged(orderId: $orderId) {\n      number\n      status\n      url\n      issuedAt\n    }\n  }\n": typeof types.InvoiceStatusDocument,
    "\n  query Orders($first: Int!, $after: String) {\n    orders(first: $first, after: $after) {\n      edges {\n        node {\n          ...OrderFields\n          client {\n            name\n            email\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.OrdersDocument,
    "\n  query Products($first: Int!, $after: String) {\n    products(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          sku\n          description\n          unitPrice\n          stockOnHand\n          stockReserved\n          stockAvailable\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.ProductsDocument,
    "\n  mutation CreateVehicle($input: CreateVehicleInput!) {\n    createVehicle(input: $input) {\n      ...VehicleFields\n    }\n  }\n": typeof types.CreateVehicleDocument,
    "\n  mutation UpdateVehicle($id: ID!, $input: UpdateVehicleInput!) {\n    updateVehicle(id: $id, input: $input) {\n      ...VehicleFields\n    }\n  }\n": typeof types.UpdateVehicleDocument,
    "\n  mutation CreateProduct($input: CreateProductInput!) {\n    createProduct(input: $input) {\n      id\n      sku\n      description\n      unitPrice\n      stockOnHand\n      stockReserved\n      stockAvailable\n    }\n  }\n": typeof types.CreateProductDocument,
    "\n  mutation AdjustStock($productId: ID!, $delta: Int!) {\n    adjustStock(productId: $productId, delta: $delta) {\n      id\n      stockOnHand\n      stockReserved\n      stockAvailable\n    }\n  }\n": typeof types.AdjustStockDocument,
};
const documents: Documents = {
    "\n  fragment VehicleFields on Vehicle {\n    id\n    brand\n    model\n    year\n    color\n    price\n    status\n  }\n": types.VehicleFieldsFragmentDoc,
    "\n  query VehiclesPage($status: VehicleStatus!, $first: Int!, $after: String) {\n    vehicles(status: $status, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...VehicleFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.VehiclesPageDocument,
    "\n  query Vehicle($id: ID!) {\n    vehicle(id: $id) {\n      ...VehicleFields\n      createdAt\n      updatedAt\n    }\n  }\n": types.VehicleDocument,
    "\n  subscription VehicleAvailability {\n    vehicleAvailabilityChanged {\n      id\n      status\n    }\n  }\n": types.VehicleAvailabilityDocument,
    "\n  query Me {\n    me {\n      id\n      name\n      cpf\n      email\n      phone\n      address {\n        street\n        number\n        complement\n        neighborhood\n        city\n        state\n        zipCode\n      }\n    }\n  }\n": types.MeDocument,
    "\n  mutation RegisterClient($input: RegisterClientInput!) {\n    registerClient(input: $input) {\n      id\n      name\n      cpf\n      email\n    }\n  }\n": types.RegisterClientDocument,
    "\n  fragment OrderFields on Order {\n    id\n    status\n    cancellationReason\n    total\n    placedAt\n    updatedAt\n    refundOwed\n    items {\n      kind\n      productId\n      description\n      quantity\n      unitPrice\n      total\n      status\n      vehicle {\n        id\n      }\n    }\n    payment {\n      code\n      amount\n      expiresAt\n      status\n      received\n      brCode\n      refunds {\n        id\n        amount\n        status\n        requestedAt\n        completedAt\n      }\n    }\n    invoice {\n      number\n      status\n      url\n      issuedAt\n    }\n    history {\n      status\n      event\n      at\n      detail\n    }\n  }\n": types.OrderFieldsFragmentDoc,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      ...OrderFields\n    }\n  }\n": types.PlaceOrderDocument,
    "\n  mutation CancelOrder($id: ID!) {\n    cancelOrder(id: $id) {\n      ...OrderFields\n    }\n  }\n": types.CancelOrderDocument,
    "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n": types.OrderDocument,
    "\n  subscription OrderStatus($orderId: ID!) {\n    orderStatusChanged(orderId: $orderId) {\n      ...OrderFields\n    }\n  }\n": types.OrderStatusDocument,
    "\n  subscription InvoiceStatus($orderId: ID!) {\n    invoiceStatusChanged(orderId: $orderId) {\n      number\n      status\n      url\n      issuedAt\n    }\n  }\n": types.InvoiceStatusDocument,
    "\n  query Orders($first: Int!, $after: String) {\n    orders(first: $first, after: $after) {\n      edges {\n        node {\n          ...OrderFields\n          client {\n            name\n            email\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.OrdersDocument,
    "\n  query Products($first: Int!, $after: String) {\n    products(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          sku\n          description\n          unitPrice\n          stockOnHand\n          stockReserved\n          stockAvailable\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.ProductsDocument,
    "\n  mutation CreateVehicle($input: CreateVehicleInput!) {\n    createVehicle(input: $input) {\n      ...VehicleFields\n    }\n  }\n": types.CreateVehicleDocument,
    "\n  mutation UpdateVehicle($id: ID!, $input: UpdateVehicleInput!) {\n    updateVehicle(id: $id, input: $input) {\n      ...VehicleFields\n    }\n  }\n": types.UpdateVehicleDocument,
    "\n  mutation CreateProduct($input: CreateProductInput!) {\n    createProduct(input: $input) {\n      id\n      sku\n      description\n      unitPrice\n      stockOnHand\n      stockReserved\n      stockAvailable\n    }\n  }\n": types.CreateProductDocument,
    "\n  mutation AdjustStock($productId: ID!, $delta: Int!) {\n    adjustStock(productId: $productId, delta: $delta) {\n      id\n      stockOnHand\n      stockReserved\n      stockAvailable\n    }\n  }\n": types.AdjustStockDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment VehicleFields on Vehicle {\n    id\n    brand\n    model\n    year\n    color\n    price\n    status\n  }\n"): (typeof documents)["\n  fragment VehicleFields on Vehicle {\n    id\n    brand\n    model\n    year\n    color\n    price\n    status\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query VehiclesPage($status: VehicleStatus!, $first: Int!, $after: String) {\n    vehicles(status: $status, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...VehicleFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query VehiclesPage($status: VehicleStatus!, $first: Int!, $after: String) {\n    vehicles(status: $status, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...VehicleFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Vehicle($id: ID!) {\n    vehicle(id: $id) {\n      ...VehicleFields\n      createdAt\n      updatedAt\n    }\n  }\n"): (typeof documents)["\n  query Vehicle($id: ID!) {\n    vehicle(id: $id) {\n      ...VehicleFields\n      createdAt\n      updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription VehicleAvailability {\n    vehicleAvailabilityChanged {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  subscription VehicleAvailability {\n    vehicleAvailabilityChanged {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      id\n      name\n      cpf\n      email\n      phone\n      address {\n        street\n        number\n        complement\n        neighborhood\n        city\n        state\n        zipCode\n      }\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      id\n      name\n      cpf\n      email\n      phone\n      address {\n        street\n        number\n        complement\n        neighborhood\n        city\n        state\n        zipCode\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterClient($input: RegisterClientInput!) {\n    registerClient(input: $input) {\n      id\n      name\n      cpf\n      email\n    }\n  }\n"): (typeof documents)["\n  mutation RegisterClient($input: RegisterClientInput!) {\n    registerClient(input: $input) {\n      id\n      name\n      cpf\n      email\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderFields on Order {\n    id\n    status\n    cancellationReason\n    total\n    placedAt\n    updatedAt\n    refundOwed\n    items {\n      kind\n      productId\n      description\n      quantity\n      unitPrice\n      total\n      status\n      vehicle {\n        id\n      }\n    }\n    payment {\n      code\n      amount\n      expiresAt\n      status\n      received\n      brCode\n      refunds {\n        id\n        amount\n        status\n        requestedAt\n        completedAt\n      }\n    }\n    invoice {\n      number\n      status\n      url\n      issuedAt\n    }\n    history {\n      status\n      event\n      at\n      detail\n    }\n  }\n"): (typeof documents)["\n  fragment OrderFields on Order {\n    id\n    status\n    cancellationReason\n    total\n    placedAt\n    updatedAt\n    refundOwed\n    items {\n      kind\n      productId\n      description\n      quantity\n      unitPrice\n      total\n      status\n      vehicle {\n        id\n      }\n    }\n    payment {\n      code\n      amount\n      expiresAt\n      status\n      received\n      brCode\n      refunds {\n        id\n        amount\n        status\n        requestedAt\n        completedAt\n      }\n    }\n    invoice {\n      number\n      status\n      url\n      issuedAt\n    }\n    history {\n      status\n      event\n      at\n      detail\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelOrder($id: ID!) {\n    cancelOrder(id: $id) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  mutation CancelOrder($id: ID!) {\n    cancelOrder(id: $id) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription OrderStatus($orderId: ID!) {\n    orderStatusChanged(orderId: $orderId) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  subscription OrderStatus($orderId: ID!) {\n    orderStatusChanged(orderId: $orderId) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription InvoiceStatus($orderId: ID!) {\n    invoiceStatusChanged(orderId: $orderId) {\n      number\n      status\n      url\n      issuedAt\n    }\n  }\n"): (typeof documents)["\n  subscription InvoiceStatus($orderId: ID!) {\n    invoiceStatusChanged(orderId: $orderId) {\n      number\n      status\n      url\n      issuedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Orders($first: Int!, $after: String) {\n    orders(first: $first, after: $after) {\n      edges {\n        node {\n          ...OrderFields\n          client {\n            name\n            email\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Orders($first: Int!, $after: String) {\n    orders(first: $first, after: $after) {\n      edges {\n        node {\n          ...OrderFields\n          client {\n            name\n            email\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Products($first: Int!, $after: String) {\n    products(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          sku\n          description\n          unitPrice\n          stockOnHand\n          stockReserved\n          stockAvailable\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Products($first: Int!, $after: String) {\n    products(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          sku\n          description\n          unitPrice\n          stockOnHand\n          stockReserved\n          stockAvailable\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateVehicle($input: CreateVehicleInput!) {\n    createVehicle(input: $input) {\n      ...VehicleFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateVehicle($input: CreateVehicleInput!) {\n    createVehicle(input: $input) {\n      ...VehicleFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateVehicle($id: ID!, $input: UpdateVehicleInput!) {\n    updateVehicle(id: $id, input: $input) {\n      ...VehicleFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateVehicle($id: ID!, $input: UpdateVehicleInput!) {\n    updateVehicle(id: $id, input: $input) {\n      ...VehicleFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProduct($input: CreateProductInput!) {\n    createProduct(input: $input) {\n      id\n      sku\n      description\n      unitPrice\n      stockOnHand\n      stockReserved\n      stockAvailable\n    }\n  }\n"): (typeof documents)["\n  mutation CreateProduct($input: CreateProductInput!) {\n    createProduct(input: $input) {\n      id\n      sku\n      description\n      unitPrice\n      stockOnHand\n      stockReserved\n      stockAvailable\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdjustStock($productId: ID!, $delta: Int!) {\n    adjustStock(productId: $productId, delta: $delta) {\n      id\n      stockOnHand\n      stockReserved\n      stockAvailable\n    }\n  }\n"): (typeof documents)["\n  mutation AdjustStock($productId: ID!, $delta: Int!) {\n    adjustStock(productId: $productId, delta: $delta) {\n      id\n      stockOnHand\n      stockReserved\n      stockAvailable\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;