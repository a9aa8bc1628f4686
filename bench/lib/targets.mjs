// How a scenario shows the targets it judges (peers, memory): one table.
/** A scenario's targets as a table: what, wanted, the run's figure, and the verdict. */
export function targetsTable(ctx, targets) {
  ctx.table(
    ['target', 'wanted', 'figure', 'verdict'],
    targets.map((t) => [t.what, t.target, t.figure ?? '-', t.met === undefined ? 'not measured' : t.met ? 'met' : 'NOT met']),
  );
}
