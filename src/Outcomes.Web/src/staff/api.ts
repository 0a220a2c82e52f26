import createClient from "openapi-fetch";
import type { paths } from "../outcomes";
import type { Staff } from "./auth";

/** The API as the signed-in member of staff: the provider's access token, checked by the same policies as every token. */
export function staffApi(staff: Staff) {
  return createClient<paths>({ baseUrl: location.origin, headers: { Authorization: `Bearer ${staff.token}` } });
}
