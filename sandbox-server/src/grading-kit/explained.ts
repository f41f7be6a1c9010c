// A test body whose failure goes through an explanation first: a grader wraps its it() bodies so a
// failure that happened because the learner's server crashed says so (each grader knows best how).
export function explainFailures(explain: (err: unknown) => Promise<unknown>): (body: () => Promise<void>) => () => Promise<void> {
  return (body) => async () => {
    try {
      await body();
    } catch (err) {
      throw await explain(err);
    }
  };
}
