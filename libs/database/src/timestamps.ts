/** Timestamps leave the services as Unix seconds (CONTRACT.md §5). */
export function toUnixSeconds(date: Date | null | undefined): number {
  return date ? Math.floor(date.getTime() / 1000) : 0;
}
