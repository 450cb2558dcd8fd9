// What the protocol uses of msgpackr: its encoder, plain JavaScript, which the build bundles into dist/vendor.
// `msgpackr/pack` is the entry without the optional native decoder (whose package runs an install
// script): frames are decoded by our own reader, so only the encoder is needed.
export { Packr, RESERVE_START_SPACE } from 'msgpackr/pack'
