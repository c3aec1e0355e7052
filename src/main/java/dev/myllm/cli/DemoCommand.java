package dev.myllm.cli;

import picocli.CommandLine.Command;

/** {@code myllm demo}: the main job (pretraining a small GPT on Jane Austen), filled by the pretraining work. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a small GPT on Jane Austen's novels and print samples.")
final class DemoCommand implements Runnable {
    @Override
    public void run() {
        throw new CliException("demo is not available yet: pretraining is still being built", 1);
    }
}
