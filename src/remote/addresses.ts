/** Kept where it was published; the policy lives with the transports in platform/ (no node:net). */
export { classifyAddress, isPublicAddress, type AddressCategory } from "../platform/addresses.js";
