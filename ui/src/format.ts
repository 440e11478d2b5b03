// Small display helpers.
export function when(iso: string): string {
  const d = new Date(iso);
  return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function label(text: string | null | undefined): string {
  return (text ?? "").replace(/_/g, " ");
}
