/**
 * Using myllm from Java: {@link dev.myllm.Myllm} loads a model with its tokenizer to tokenize, generate, score and
 * train; {@link dev.myllm.TextClassifier} fine-tunes and runs text classifiers. The packages below it
 * ({@code tensor}, {@code model}, {@code generate}, {@code train}, {@code finetune}, ...) are the book's building blocks.
 */
package dev.myllm;
