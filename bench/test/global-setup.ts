// The faults project needs DynamoDB Local: the dynamodb package's own launcher starts it (or
// reads DYNAMODB_ENDPOINT) and provides `dynamodbEndpoint` to the tests.
export { default } from '../../packages/dynamodb/test/global-setup.js';
