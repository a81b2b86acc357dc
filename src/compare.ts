/**
 * Orders strings by UTF-16 code units. Node names, members and addresses are ASCII, where this is
 * the order a person expects; unlike localeCompare it touches none of ICU's collation data, which
 * costs every agent about 3 MiB of memory once used.
 */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
