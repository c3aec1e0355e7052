package dev.myllm.server;

import java.util.function.BooleanSupplier;

/** Waiting for a condition until a deadline, looking every few milliseconds (a shutdown's waits). */
final class Polling {
    private Polling() {
    }

    /** Returns once {@code done} holds, {@code System.nanoTime()} passes {@code endNanos}, or the thread is interrupted (its flag set again). */
    static void until(BooleanSupplier done, long endNanos, long everyMillis) {
        while (!done.getAsBoolean() && System.nanoTime() < endNanos) {
            try {
                Thread.sleep(everyMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
