package dev.myllm.finetune;

/**
 * A collated batch of preference pairs (the DPO notebook's collate): chosen and rejected token
 * sequences {@code (rows, cols)} padded to one common width, and masks selecting the response
 * tokens whose log-probabilities count.
 */
public record PreferenceBatch(int[] chosen, int[] rejected, boolean[] chosenMask, boolean[] rejectedMask, int rows, int cols) {
}
