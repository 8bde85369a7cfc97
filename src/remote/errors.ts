/** Kept where it was published; the class lives with the transports in platform/. */
export { RemoteFetchError, type RemoteFetchReason } from "../platform/errors.js";
