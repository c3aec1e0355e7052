package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A JVM that decodes before it trains (a server that fine-tunes, a notebook that samples first)
 * trains as lean as one that only trains: no kernel mixes a 256-bit species with the preferred one,
 * whose shapes, once both are seen at a call site shared by decoding and training, left training's
 * packing compiled without the Vector API's intrinsics (a step of the test's model took 58.3 MB
 * against 24.2 MB). Runs in a JVM of its own (tag {@code allocation}), decoding first; the
 * reference is a new JVM that only trains.
 */
@org.junit.jupiter.api.Tag("allocation") // (counts bytes: run in a JVM of its own, see pom.xml)
class DecodeThenTrainTest {
    @Test
    void trainingAfterDecodingAllocatesAsLittleAsTrainingAlone() {
        long decodeFirst = decodeThenTrain();
        long trainOnly = ForcedInliningTest.inNewJvm(true, List.of(), "train")[1];
        if (decodeFirst > trainOnly * 23 / 20) decodeFirst = decodeThenTrain(); // (once more: a busy machine)
        assertThat(decodeFirst).as("bytes a training step after decoding, against %,d in a JVM that only trains", trainOnly)
                .isLessThanOrEqualTo(trainOnly * 23 / 20);
    }

    private static long decodeThenTrain() {
        ForcedInliningTest.decodeTokenBytes();
        return ForcedInliningTest.trainStepBytes();
    }
}
