package dev.myllm.server;

/**
 * Where the scheduler thread's time goes, counted turn by turn (prompt passes, decode steps by
 * batch size, picking and sending tokens, the rest, idle) and read by other threads as a
 * {@link SchedulerProfile}. The scheduler thread alone writes; a lock makes each turn's totals
 * appear together.
 */
final class SchedulerTimes {
    private final Object lock = new Object();
    private long turns, prefillPasses, prefillTokens, prefillNanos, decodeSteps, decodeRows, decodeNanos, acceptNanos, otherNanos, idleNanos;
    private final long[] stepsByBatch, nanosByBatch;
    // this turn's shares (scheduler thread only), added to the totals when the turn ends
    private long turnPrefill, turnDecode, turnAccept, turnPrefillTokens, turnPrefillPasses;

    SchedulerTimes(int maxBatch) {
        this.stepsByBatch = new long[maxBatch + 1];
        this.nanosByBatch = new long[maxBatch + 1];
    }

    /** The totals so far. */
    SchedulerProfile profile() {
        synchronized (lock) {
            return new SchedulerProfile(turns, prefillPasses, prefillTokens, prefillNanos, decodeSteps, decodeRows, decodeNanos, acceptNanos,
                    otherNanos, idleNanos, stepsByBatch.clone(), nanosByBatch.clone());
        }
    }

    /** Time spent waiting for work (or gathering a burst of it). */
    void idle(long nanos) {
        synchronized (lock) {
            idleNanos += nanos;
        }
    }

    void startTurn() {
        turnPrefill = turnDecode = turnAccept = turnPrefillTokens = turnPrefillPasses = 0;
    }

    /** One pass of {@code tokens} prompt tokens through the model. */
    void prefill(long tokens, long nanos) {
        turnPrefill += nanos;
        turnPrefillTokens += tokens;
        turnPrefillPasses++;
    }

    /** One decode step of {@code batch} rows (counted at once, so a running profile sees it). */
    void decodeStep(int batch, long nanos) {
        turnDecode += nanos;
        synchronized (lock) {
            decodeSteps++;
            decodeRows += batch;
            if (batch < stepsByBatch.length) {
                stepsByBatch[batch]++;
                nanosByBatch[batch] += nanos;
            }
        }
    }

    /** Picking and sending tokens. */
    void accept(long nanos) {
        turnAccept += nanos;
    }

    /** The turn took {@code spent} in all: what the parts above did not count is the rest. */
    void endTurn(long spent) {
        synchronized (lock) {
            turns++;
            prefillTokens += turnPrefillTokens;
            prefillPasses += turnPrefillPasses;
            prefillNanos += turnPrefill;
            decodeNanos += turnDecode;
            acceptNanos += turnAccept;
            otherNanos += spent - turnPrefill - turnDecode - turnAccept;
        }
    }
}
