package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ContiguousClaimsTest {
    /** Everything {@code part}'s owner takes when it runs alone. */
    private static List<Integer> drain(ContiguousClaims c, int part) {
        List<Integer> got = new ArrayList<>();
        for (int t; (t = c.next(part)) >= 0; ) got.add(t);
        return got;
    }

    @Test
    void equalWeightsSplitInHalvesAndEachOwnerTakesItsPartInOrder() {
        ContiguousClaims c = new ContiguousClaims(new long[]{1, 1, 1, 1, 1, 1, 1, 1}, 2);
        assertThat(c.count()).isEqualTo(2);
        // the owner of part 0 takes 0..3 from the front, then steals 7, 6, 5, 4 from part 1's back
        assertThat(drain(c, 0)).containsExactly(0, 1, 2, 3, 7, 6, 5, 4);
        assertThat(c.next(1)).isEqualTo(-1);
    }

    @Test
    void partsFollowTheWeightsNotTheCounts() {
        // a long sequence first (weight 6 per task), then short ones (weight 1): the first part ends early
        ContiguousClaims c = new ContiguousClaims(new long[]{6, 6, 1, 1, 1, 1, 1, 1, 1, 1}, 2);
        assertThat(c.next(1)).isEqualTo(2); // part 1 starts at task 2: 12 of the 20 before, 8 after
        assertThat(c.next(0)).isEqualTo(0);
        assertThat(c.next(0)).isEqualTo(1);
        assertThat(c.next(1)).isEqualTo(3);
    }

    @Test
    void everyTaskIsTakenExactlyOnceWhenThreadsRace() throws Exception {
        int tasks = 997, threads = 4;
        long[] weights = new long[tasks];
        for (int i = 0; i < tasks; i++) weights[i] = 1 + i % 7;
        for (int round = 0; round < 50; round++) {
            ContiguousClaims c = new ContiguousClaims(weights, threads);
            ConcurrentLinkedQueue<Integer> taken = new ConcurrentLinkedQueue<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int p = 0; p < threads; p++) {
                int own = p;
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int t; (t = c.next(own)) >= 0; ) taken.add(t);
                }));
            }
            go.countDown();
            for (Thread t : ts) t.join();
            assertThat(taken).hasSize(tasks).doesNotHaveDuplicates();
            assertThat(taken).allMatch(t -> t >= 0 && t < tasks);
        }
    }

    @Test
    void moreThreadsThanTasksLeavesEmptyPartsThatSteal() {
        ContiguousClaims c = new ContiguousClaims(new long[]{5, 5}, 2);
        ContiguousClaims many = new ContiguousClaims(new long[]{5}, 3);
        assertThat(drain(c, 1)).containsExactly(1, 0);
        assertThat(drain(many, 2)).containsExactly(0);
        assertThat(new ContiguousClaims(new long[0], 2).next(0)).isEqualTo(-1);
    }
}
