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
}
