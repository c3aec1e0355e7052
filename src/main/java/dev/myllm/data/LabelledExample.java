package dev.myllm.data;

/** One labelled text for classification: the text and its class name (any string). */
public record LabelledExample(String text, String label) {
    public LabelledExample {
        if (text == null) throw new IllegalArgumentException("a labelled example needs a text");
        if (label == null) throw new IllegalArgumentException("a labelled example needs a label");
    }
}
