package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.KVCache;
import org.junit.jupiter.api.Test;

/** Finished sequences' caches are handed to the next ones that fit them, emptied; the pool stays bounded and counts those out. */
class CachePoolTest {
    private static final GPTConfig CONFIG = GPTConfig.preset("gpt2-small").withContextLength(256);

    @Test
    void aNewCacheIsRoundedUpToWholeBlocksOfPositionsWithinTheContext() {
        CachePool pool = new CachePool(CONFIG, 4, 1L << 30);
        assertThat(pool.take(1).capacity()).isEqualTo(64);
        assertThat(pool.take(65).capacity()).isEqualTo(128);
        assertThat(pool.take(250).capacity()).isEqualTo(256);
        assertThat(pool.take(900).capacity()).isEqualTo(256); // never beyond the context
    }

    @Test
    void aCacheGivenBackIsTakenAgainEmptyByASequenceItFitsButNotByOneItDwarfs() {
        CachePool pool = new CachePool(CONFIG, 4, 1L << 30);
        KVCache big = pool.take(200), small = pool.take(40);
        assertThat(big.capacity()).isEqualTo(256);
        assertThat(small.capacity()).isEqualTo(64);
        assertThat(pool.inUse()).isEqualTo(2);
        pool.give(big);
        pool.give(small);
        assertThat(pool.size()).isEqualTo(2);
        assertThat(pool.inUse()).isZero();
        // 30 positions: the 64 fits (the smallest that does); 256 would hold more than twice the need
        KVCache a = pool.take(30);
        assertThat(a).isSameAs(small);
        assertThat(a.length()).isZero();
        KVCache b = pool.take(30);
        assertThat(b).isNotSameAs(big);
        assertThat(pool.take(150)).isSameAs(big);
        assertThat(pool.size()).isZero();
        assertThat(pool.inUse()).isEqualTo(3);
        pool.give(null); // a sequence that never got a cache
        assertThat(pool.inUse()).isEqualTo(3);
    }

    @Test
    void keepsAtMostItsCountAndBytes() {
        CachePool byCount = new CachePool(CONFIG, 2, 1L << 30);
        KVCache c1 = byCount.take(64), c2 = byCount.take(64), c3 = byCount.take(64);
        byCount.give(c1);
        byCount.give(c2);
        byCount.give(c3);
        assertThat(byCount.size()).isEqualTo(2);
        assertThat(byCount.inUse()).as("the cache the pool let go was given back all the same").isZero();
        assertThat(byCount.take(64)).isIn(c2, c3); // the oldest went first

        CachePool byBytes = new CachePool(CONFIG, 8, c1.bytes() + c1.bytes() / 2);
        byBytes.give(c1);
        byBytes.give(c2);
        assertThat(byBytes.size()).isEqualTo(1);
        assertThat(new CachePool(CONFIG, 8, c1.bytes() - 1).take(64)).isNotNull();
    }

    /** A small model whose caches the prefix tests fill by real forward passes. */
    private static final GPTConfig SMALL = new GPTConfig(300, 256, 32, 2, 2, 0f, true, true, 1e-5f);
    private static final dev.myllm.model.GPTModel MODEL = dev.myllm.model.RandomModels.uniform(SMALL, 1);

    /** A cache as a finished sequence leaves it: {@code ids} run through the model (the prompt's positions and the answer's). */
    private static KVCache filled(CachePool pool, int tokens, int[] ids) {
        KVCache c = pool.take(tokens);
        prefill(c, ids);
        return c;
    }

    /** The last position's logits of {@code ids} run through the model after what {@code c} holds, as the server prefills. */
    private static float[] prefill(KVCache c, int[] ids) {
        try (var g = dev.myllm.tensor.GradMode.noGrad(); var pm = dev.myllm.tensor.ProductMode.use(dev.myllm.tensor.ProductMode.PACKED)) {
            return MODEL.forward(ids, 1, ids.length, c, true).toArray();
        }
    }

    private static int[] ids(int from, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = (from + i) % 300;
        return a;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aPromptStartingWithAKeptPrefixGetsTheCacheHoldingItsLongestStart() {
        CachePool pool = new CachePool(SMALL, 4, 1L << 30);
        int[] system = ids(100, 30);
        int[] a = concat(system, ids(150, 10)), b = concat(system, ids(200, 20));
        KVCache ca = filled(pool, 60, concat(a, ids(1, 5))), cb = filled(pool, 60, b);
        KVCache other = filled(pool, 60, ids(250, 40));
        pool.give(ca, a, a.length);                      // 40 prompt positions prefilled, then 5 generated
        pool.give(cb, b, 25);                            // cut off after 25 of its 50 prompt positions
        pool.give(other, ids(250, 40), 40);
        assertThat(pool.size()).isEqualTo(3);

        int[] next = concat(concat(a, ids(1, 5)), ids(3, 5)); // a's prompt, its answer, a new question
        KVCache got = pool.take(next, next.length + 10);
        assertThat(got).isSameAs(ca);
        assertThat(got.length()).as("all of a's prompt, none of its answer").isEqualTo(40);
        assertThat(pool.inUse()).isEqualTo(1);

        // b's first 25 tokens again: all but the last position, whose logits the sequence needs, and copied, since
        // handing b's cache over would lose its 25th position
        KVCache again = pool.take(java.util.Arrays.copyOf(b, 25), 40);
        assertThat(again).as("the emptied cache of the size rule, not b's").isSameAs(other);
        assertThat(again.length()).isEqualTo(24);
        assertThat(pool.size()).isEqualTo(1);
        pool.give(again, b, 24);
        KVCache whole = pool.take(b, 60);
        assertThat(whole).as("b going on from all a cache holds: that cache").isIn(cb, again);
        assertThat(whole.length()).isEqualTo(whole == cb ? 25 : 24);
        pool.give(whole);
        other = pool.take(ids(10, 30), 40);

        // nothing shared: the size rule picks an emptied cache
        assertThat(other.length()).isZero();
    }

    @Test
    void aKeptPrefixTooSmallForTheNewSequenceIsCopiedIntoOneThatFits() {
        CachePool pool = new CachePool(SMALL, 4, 1L << 30);
        int[] p = ids(10, 50), question = ids(3, 10);
        KVCache small = filled(pool, 60, concat(p, ids(1, 5)));
        assertThat(small.capacity()).isEqualTo(64);
        pool.give(small, p, 50);
        // a 60-token prompt and 90 new tokens do not fit 64 positions: a new cache with the 50 positions copied
        KVCache big = pool.take(concat(p, question), 150);
        assertThat(big).isNotSameAs(small);
        assertThat(big.capacity()).isEqualTo(192);
        assertThat(big.length()).isEqualTo(50);
        assertThat(pool.size()).as("the kept cache stays for the next prompt").isEqualTo(1);
        // going on from the copy gives the bits of one pass over the whole prompt
        assertThat(prefill(big, question)).containsExactly(prefill(new KVCache(SMALL, 1, 128), concat(p, question)));
    }

    @Test
    void noPrefixIsOfferedAfterAFailedTurnOrToEcho() {
        CachePool pool = new CachePool(SMALL, 4, 1L << 30);
        int[] p = ids(10, 50);
        KVCache c = filled(pool, 60, p);
        pool.give(c); // a failed turn gives its caches back without their prompts
        assertThat(pool.take(p, 60)).isSameAs(c).extracting(KVCache::length).isEqualTo(0);
        pool.give(c, p, 50);
        // no prompt given (echo with log-probabilities needs every position's logits): emptied
        assertThat(pool.take(null, 60)).isSameAs(c).extracting(KVCache::length).isEqualTo(0);
    }

    @Test
    void aPromptSharingNothingEmptiesACacheThatHoldsNoPromptBeforeOneThatDoes() {
        CachePool pool = new CachePool(SMALL, 4, 1L << 30);
        int[] system = ids(100, 30);
        KVCache holding = filled(pool, 60, system), empty = filled(pool, 60, ids(7, 20));
        pool.give(holding, system, 30);  // given back first: the older of two caches of one size
        pool.give(empty);                // a failed turn's: no prompt positions to offer
        KVCache got = pool.take(ids(200, 20), 40);
        assertThat(got).isSameAs(empty);
        assertThat(got.length()).isZero();
        // the system prompt is still there for the next request that starts with it
        KVCache next = pool.take(concat(system, ids(5, 8)), 60);
        assertThat(next).isSameAs(holding);
        assertThat(next.length()).isEqualTo(30);
    }

    @Test
    void aKeptPrefixCopiedFromIsTheLastToBeLetGo() {
        CachePool pool = new CachePool(SMALL, 2, 1L << 30);
        int[] system = ids(100, 30), other = ids(200, 30);
        KVCache shared = filled(pool, 60, system), second = filled(pool, 60, other);
        pool.give(shared, system, 30);
        pool.give(second, other, 30);
        // a question after the system prompt that needs more room than the kept cache has: copied from it
        KVCache asked = pool.take(concat(system, ids(3, 10)), 150);
        assertThat(asked).isNotSameAs(shared);
        assertThat(asked.length()).isEqualTo(30);
        // a third cache given back: the pool keeps two, and lets go the one of no use since, not the system prompt's
        pool.give(asked);
        assertThat(pool.size()).isEqualTo(2);
        KVCache again = pool.take(concat(system, ids(9, 4)), 60);
        assertThat(again).isSameAs(shared);
        assertThat(again.length()).isEqualTo(30);
        assertThat(pool.take(concat(other, ids(9, 4)), 60).length()).as("the other prompt's cache was let go").isZero();
    }
}
