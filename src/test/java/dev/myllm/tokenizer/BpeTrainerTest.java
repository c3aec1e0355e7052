package dev.myllm.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BpeTrainerTest {
    @Test
    void booksCheckOnTheVerdict(@TempDir Path dir) throws Exception {
        TrainedBpe t = new BpeTrainer().train(List.of(BpeGpt2Test.verdict()), 1000, List.of("<|endoftext|>"), null);
        assertThat(t.mergeCount()).isEqualTo(742);
        assertThat(t.vocabSize()).isEqualTo(1000);
        assertThat(t.eotId()).isEqualTo(257);
        String s = "Jack embraced beauty through art and life.";
        int[] ids = t.encode(s);
        assertThat(ids).containsExactly(74, 361, 310, 109, 98, 420, 397, 100, 300, 428, 116, 121, 519, 699, 299, 808, 534);
        assertThat(t.decode(ids)).isEqualTo(s);
        Path f = dir.resolve("v.json");
        t.save(f);
        TrainedBpe back = TrainedBpe.load(f);
        assertThat(back.encode(s)).containsExactly(ids);
        assertThat(back.decode(back.encode(BpeGpt2Test.verdict()))).isEqualTo(BpeGpt2Test.verdict());
    }

    @Test
    void overlappingRunsMergeLeftToRightLikeTheBook() {
        // "aaaaa": counts (a,a)=4 → merge to [z z a]; then (z,z)=1 and (z,a)=1 tie: (z,z) is seen first.
        TrainedBpe t = new BpeTrainer().train(List.of("aaaaa"), 300, List.of(), null);
        assertThat(t.mergeCount()).isEqualTo(3); // then no pair is left: training stops early
        assertThat(t.decodeBytes(new int[]{257})).containsExactly('a', 'a');
        assertThat(new String(t.decodeBytes(new int[]{258}))).isEqualTo("aaaa");
        assertThat(new String(t.decodeBytes(new int[]{259}))).isEqualTo("aaaaa");
        assertThat(t.encode("aaaaa aa")).containsExactly(259, 256, 257);
    }
}
