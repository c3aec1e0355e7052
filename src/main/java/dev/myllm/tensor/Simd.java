package dev.myllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The one vector species every kernel uses, and the switch that forces the scalar twins. */
public final class Simd {
    /** The widest float species this CPU runs natively (16 lanes with AVX-512, 8 with AVX2). */
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** False when {@code -Dmyllm.simd=false}: every kernel then takes its scalar twin. */
    public static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("myllm.simd", "true"));

    private Simd() {
    }
}
