// Global setup of the `examples` test project: DynamoDB Local for cxone-sqs-dynamodb, started
// by the same launcher as @idemkit/dynamodb's own tests (Java 17+, a free loopback port, stopped
// afterwards), or the one DYNAMODB_ENDPOINT points at. It provides `inject('dynamodbEndpoint')`.
// Redis and PostgreSQL are the machine's own: each example's test checks for its server.
export { default } from '../../packages/dynamodb/test/global-setup.js';
