// workerd (without nodejs_compat): answers what checkEntries found.
import { checkEntries } from "./entries.mjs";

export default {
  async fetch() {
    try {
      return Response.json(await checkEntries());
    } catch (error) {
      return Response.json({ problems: [String(error?.stack ?? error)] }, { status: 500 });
    }
  },
};
