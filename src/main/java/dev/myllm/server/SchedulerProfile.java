package dev.myllm.server;

/**
 * Where the scheduler thread's time went since the server started ({@code bench serve --profile}):
 * prompt chunks through the model (passes: how many times the model ran on prompt tokens), batched decode steps (by batch size), picking and reporting
 * tokens (sampling, detokenizing, handing them to the request threads), the rest of each turn,
 * and waiting for work.
 */
public record SchedulerProfile(long turns, long prefillPasses, long prefillTokens, long prefillNanos, long decodeSteps, long decodeRows,
                               long decodeNanos, long acceptNanos, long otherNanos, long idleNanos,
                               long[] stepsByBatch, long[] nanosByBatch) {
    /** Mean milliseconds of a decode step of {@code batch} rows, or 0 if there was none. */
    public double stepMillis(int batch) {
        return batch < stepsByBatch.length && stepsByBatch[batch] > 0 ? nanosByBatch[batch] / 1e6 / stepsByBatch[batch] : 0;
    }

    /** The counters accumulated after {@code earlier} was taken. */
    public SchedulerProfile since(SchedulerProfile earlier) {
        long[] steps = stepsByBatch.clone(), nanos = nanosByBatch.clone();
        for (int i = 0; i < steps.length && i < earlier.stepsByBatch.length; i++) {
            steps[i] -= earlier.stepsByBatch[i];
            nanos[i] -= earlier.nanosByBatch[i];
        }
        return new SchedulerProfile(turns - earlier.turns, prefillPasses - earlier.prefillPasses, prefillTokens - earlier.prefillTokens, prefillNanos - earlier.prefillNanos,
                decodeSteps - earlier.decodeSteps, decodeRows - earlier.decodeRows, decodeNanos - earlier.decodeNanos,
                acceptNanos - earlier.acceptNanos, otherNanos - earlier.otherNanos, idleNanos - earlier.idleNanos, steps, nanos);
    }
}
