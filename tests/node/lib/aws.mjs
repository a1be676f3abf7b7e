/* The AWS SDK for JavaScript v3 clients the tests drive sluice with (from
 * tests/node/node_modules, where the test files cannot resolve them). */
export * as kinesis from '@aws-sdk/client-kinesis';
export * as firehose from '@aws-sdk/client-firehose';
/* HTTP/1.1 for the Kinesis client: its default handler speaks HTTP/2 only
 * (for SubscribeToShard), which sluice's server does not. */
export { NodeHttpHandler } from '@smithy/node-http-handler';
/* SigV4 as the SDKs sign (for benches that replay pre-signed requests). */
export { SignatureV4 } from '@smithy/signature-v4';
/* The SDK's own retry strategies (a fixed backoff for tests that wait on the
 * server). */
export { ConfiguredRetryStrategy } from '@smithy/core/retry';
