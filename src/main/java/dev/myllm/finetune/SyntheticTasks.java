package dev.myllm.finetune;

import dev.myllm.tensor.Rng;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A built-in, seeded instruction set of short tasks with one checkable answer each (arithmetic,
 * unit conversion, counting, word order, plurals and past tenses of listed words, capitals,
 * comparison), so instruction tuning works offline and is scored by exact match. Every record
 * also carries a preference pair: chosen = the right answer, rejected = a plausible wrong one.
 * Records are distinct questions, so the book's split of them shares no question between parts.
 */
public final class SyntheticTasks {
    /** One generated task: its question (instruction and input) and a right and a wrong answer. */
    private record Task(String instruction, String input, String answer, String wrong) {
    }

    static final String[] NOUNS = {"letter", "house", "sister", "brother", "daughter", "friend", "carriage", "horse", "garden",
            "room", "window", "door", "book", "ball", "dinner", "walk", "party", "lady", "family", "story", "city", "duty",
            "church", "box", "dress", "glass", "wish", "visit", "hour", "day", "evening", "morning", "girl", "cousin",
            "uncle", "aunt", "servant", "road", "field", "hill", "river", "tree", "flower", "hat", "shoe", "ribbon", "song",
            "dance", "game", "card", "table", "chair", "cup", "plate", "picture", "name", "word", "thought", "feeling",
            "heart", "hand", "eye", "smile", "tear", "gift", "note", "bench", "coach", "branch", "fox", "kiss",
            "boy", "key", "valley", "country", "company", "body", "lily", "berry", "penny", "baby", "copy", "enemy"};
    static final String[] VERBS = {"walk", "talk", "call", "look", "dance", "smile", "hope", "marry", "carry", "hurry",
            "wish", "want", "need", "help", "thank", "answer", "listen", "open", "return", "visit", "wonder", "remember",
            "love", "like", "live", "move", "arrive", "decide", "believe", "receive", "agree", "laugh", "play", "stay",
            "pray", "obey", "study", "worry", "reply", "cry", "try", "copy", "turn", "learn", "start", "finish", "touch",
            "watch", "pass", "kiss", "rest", "travel", "order", "offer", "suffer", "wait", "fear", "plant", "paint",
            "count", "point", "cook", "clean", "close", "change", "dress", "join", "enjoy"};
    static final String[][] CAPITALS = {{"France", "Paris"}, {"Spain", "Madrid"}, {"Italy", "Rome"}, {"Germany", "Berlin"},
            {"Portugal", "Lisbon"}, {"Austria", "Vienna"}, {"Greece", "Athens"}, {"Ireland", "Dublin"}, {"Norway", "Oslo"},
            {"Sweden", "Stockholm"}, {"Denmark", "Copenhagen"}, {"Finland", "Helsinki"}, {"Poland", "Warsaw"},
            {"Hungary", "Budapest"}, {"Belgium", "Brussels"}, {"Netherlands", "Amsterdam"}, {"Switzerland", "Bern"},
            {"Russia", "Moscow"}, {"Egypt", "Cairo"}, {"Kenya", "Nairobi"}, {"Japan", "Tokyo"}, {"China", "Beijing"},
            {"India", "Delhi"}, {"Peru", "Lima"}, {"Chile", "Santiago"}, {"Cuba", "Havana"}, {"Canada", "Ottawa"},
            {"Mexico", "Mexico City"}, {"Brazil", "Brasilia"}, {"Argentina", "Buenos Aires"}, {"Australia", "Canberra"},
            {"Turkey", "Ankara"}, {"Iran", "Tehran"}, {"Iraq", "Baghdad"}, {"Syria", "Damascus"}, {"Thailand", "Bangkok"},
            {"Vietnam", "Hanoi"}, {"Nepal", "Kathmandu"}, {"Ghana", "Accra"}, {"Nigeria", "Abuja"}, {"Morocco", "Rabat"},
            {"Scotland", "Edinburgh"}, {"England", "London"}, {"Wales", "Cardiff"}, {"Iceland", "Reykjavik"},
            {"Romania", "Bucharest"}, {"Bulgaria", "Sofia"}, {"Serbia", "Belgrade"}, {"Croatia", "Zagreb"},
            {"Ukraine", "Kyiv"}, {"Colombia", "Bogota"}, {"Venezuela", "Caracas"}, {"Ethiopia", "Addis Ababa"},
            {"Indonesia", "Jakarta"}, {"Philippines", "Manila"}, {"Pakistan", "Islamabad"}, {"Afghanistan", "Kabul"},
            {"Jamaica", "Kingston"}, {"Uruguay", "Montevideo"}, {"Bolivia", "La Paz"}};
    static final String[] NUMBER_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
    static final String[] TENS = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

    /** The most records {@link #generate} makes. */
    public static final int MAX_SIZE = 100_000;
    private static final Map<String, Function<Rng, Task>> FAMILIES = new LinkedHashMap<>();

    static {
        FAMILIES.put("add", r -> {
            int a = r.nextInt(10), b = r.nextInt(10);
            String[] q = {"What is " + a + " plus " + b + "?", "Add " + a + " and " + b + ".", "What is the sum of " + a + " and " + b + "?"};
            return new Task(q[r.nextInt(q.length)], "", "" + (a + b), "" + near(r, a + b));
        });
        FAMILIES.put("subtract", r -> {
            int a = r.nextInt(10), b = r.nextInt(a + 1);
            String[] q = {"What is " + a + " minus " + b + "?", "Subtract " + b + " from " + a + "."};
            return new Task(q[r.nextInt(q.length)], "", "" + (a - b), "" + near(r, a - b));
        });
        FAMILIES.put("next", r -> {
            int n = 1 + r.nextInt(199);
            String[] q = {"What number comes after " + n + "?", "What is the next number after " + n + "?"};
            return new Task(q[r.nextInt(q.length)], "", "" + (n + 1), "" + (r.nextInt(2) == 0 ? n : n + 2));
        });
        FAMILIES.put("units", r -> {
            int n = 1 + r.nextInt(99);
            return switch (r.nextInt(3)) {
                case 0 -> new Task("Convert " + n + " meters to centimeters.", "", n + "00", n + "0");
                case 1 -> new Task("How many grams are in " + n + " kilograms?", "", n + "000", n + "00");
                default -> new Task("Convert " + n + "00 centimeters to meters.", "", "" + n, n + "0");
            };
        });
        FAMILIES.put("count", r -> {
            int k = 2 + r.nextInt(5);
            String items = String.join(", ", pick(r, NOUNS, k));
            return new Task("How many words are in the following list?", items, "" + k, "" + near(r, k));
        });
        FAMILIES.put("reverse", r -> {
            List<String> w = pick(r, NOUNS, 3);
            return new Task("Reverse the order of these words.", words(w), "Reversed: " + w.get(2) + " " + w.get(1) + " " + w.get(0),
                    "Reversed: " + String.join(" ", w));
        });
        FAMILIES.put("last", r -> {
            List<String> w = pick(r, NOUNS, 3 + r.nextInt(2));
            boolean first = r.nextInt(2) == 0;
            String which = first ? "first" : "last";
            return new Task("What is the " + which + " word of the following?", words(w),
                    "The " + which + " word is " + (first ? w.getFirst() : w.getLast()) + ".",
                    "The " + which + " word is " + (first ? w.getLast() : w.getFirst()) + ".");
        });
        FAMILIES.put("plural", r -> {
            String n = NOUNS[r.nextInt(NOUNS.length)];
            String[] q = {"What is the plural of " + n + "?", "Write the plural form of the word " + n + "."};
            String right = plural(n);
            return new Task(q[r.nextInt(q.length)], "", "The plural of " + n + " is " + right + ".",
                    "The plural of " + n + " is " + (right.equals(n + "s") ? n + "es" : n + "s") + ".");
        });
        FAMILIES.put("past", r -> {
            String v = VERBS[r.nextInt(VERBS.length)];
            String[] q = {"What is the past tense of " + v + "?", "Write the past tense of the verb " + v + "."};
            String right = past(v);
            return new Task(q[r.nextInt(q.length)], "", "The past tense of " + v + " is " + right + ".",
                    "The past tense of " + v + " is " + (right.equals(v + "ed") ? v + "d" : v + "ed") + ".");
        });
        FAMILIES.put("capital", r -> {
            int i = r.nextInt(CAPITALS.length);
            String c = CAPITALS[i][0];
            String[] q = {"What is the capital of " + c + "?", "Name the capital city of " + c + ".", "Which city is the capital of " + c + "?"};
            return new Task(q[r.nextInt(q.length)], "", "The capital of " + c + " is " + CAPITALS[i][1] + ".",
                    "The capital of " + c + " is " + CAPITALS[(i + 1 + r.nextInt(CAPITALS.length - 1)) % CAPITALS.length][1] + ".");
        });
        FAMILIES.put("larger", r -> {
            int a = r.nextInt(100), b = r.nextInt(100);
            if (a == b) b = (b + 1 + r.nextInt(99)) % 100;
            boolean larger = r.nextInt(2) == 0;
            int right = larger ? Math.max(a, b) : Math.min(a, b);
            return new Task("Which is " + (larger ? "larger" : "smaller") + ", " + a + " or " + b + "?", "", "" + right,
                    "" + (right == a ? b : a));
        });
        FAMILIES.put("spell", r -> {
            // 0-99: the words are made of parts (tens, units) that the training questions teach, so every answer can be derived
            int n = r.nextInt(100);
            int wrong = n == 99 ? 98 : n + 1;
            return r.nextInt(2) == 0
                    ? new Task("Write the number " + n + " in words.", "", inWords(n), inWords(wrong))
                    : new Task("Write " + inWords(n) + " as a number.", "", "" + n, "" + near(r, n));
        });
    }

    private SyntheticTasks() {
    }

    /** The task families, in generation order. */
    public static List<String> families() {
        return List.copyOf(FAMILIES.keySet());
    }

    /**
     * {@code size} distinct questions drawn from the families in turn with generator {@code seed},
     * in random order, each with {@code output} = {@code chosen} = the right answer and
     * {@code rejected} = a wrong one; fails when the families cannot make that many.
     */
    public static List<InstructionExample> generate(int size, long seed) {
        if (size < 1 || size > MAX_SIZE) throw new IllegalArgumentException("synthetic size must be between 1 and " + MAX_SIZE + ", got " + size);
        Rng rng = new Rng(seed);
        Map<String, InstructionExample> out = new LinkedHashMap<>();
        List<Function<Rng, Task>> fams = new ArrayList<>(FAMILIES.values());
        long attempts = 0;
        while (out.size() < size) {
            Task t = fams.get((int) (attempts++ % fams.size())).apply(rng);
            String key = t.instruction() + "\n" + t.input();
            out.putIfAbsent(key, new InstructionExample(t.instruction(), t.input(), t.answer(), t.answer(), t.wrong(), List.of()));
        }
        List<InstructionExample> list = new ArrayList<>(out.values());
        int[] order = new int[list.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        rng.shuffle(order);
        List<InstructionExample> shuffled = new ArrayList<>(list.size());
        for (int i : order) shuffled.add(list.get(i));
        return shuffled;
    }

    /**
     * The family of a synthetic record ({@code add}, {@code capital}, ...; see {@link #families()}),
     * recognized from its instruction, or null for a record these tasks do not make.
     */
    public static String family(InstructionExample e) {
        String s = e.instruction();
        if (s.contains(" plus ") || s.startsWith("Add ") || s.contains("the sum of ")) return "add";
        if (s.contains(" minus ") || s.startsWith("Subtract ")) return "subtract";
        if (s.contains(" comes after ") || s.contains("the next number after ")) return "next";
        if (s.startsWith("Convert ") || s.startsWith("How many grams ")) return "units";
        if (s.startsWith("How many words ")) return "count";
        if (s.startsWith("Reverse the order ")) return "reverse";
        if (s.endsWith(" word of the following?")) return "last";
        if (s.contains("plural")) return "plural";
        if (s.contains("past tense")) return "past";
        if (s.contains("capital")) return "capital";
        if (s.startsWith("Which is ")) return "larger";
        if (s.startsWith("Write ") && (s.endsWith(" in words.") || s.endsWith(" as a number."))) return "spell";
        return null;
    }

    /** Whether a model's response counts as the expected answer: equal after trimming spaces, a final period and case. */
    public static boolean exactMatch(String response, String expected) {
        return normalize(response).equals(normalize(expected));
    }

    private static String normalize(String s) {
        String t = s.strip();
        if (t.endsWith(".")) t = t.substring(0, t.length() - 1).strip();
        return t.toLowerCase(java.util.Locale.ROOT);
    }

    /** 0-99 in English words: {@code forty-two}. */
    static String inWords(int n) {
        if (n < 20) return NUMBER_WORDS[n];
        return TENS[n / 10] + (n % 10 == 0 ? "" : "-" + NUMBER_WORDS[n % 10]);
    }

    static String plural(String n) {
        if (n.endsWith("y") && !isVowel(n.charAt(n.length() - 2))) return n.substring(0, n.length() - 1) + "ies";
        if (n.endsWith("s") || n.endsWith("x") || n.endsWith("ch") || n.endsWith("sh")) return n + "es";
        return n + "s";
    }

    static String past(String v) {
        if (v.endsWith("e")) return v + "d";
        if (v.endsWith("y") && !isVowel(v.charAt(v.length() - 2))) return v.substring(0, v.length() - 1) + "ied";
        return v + "ed";
    }

    private static boolean isVowel(char c) {
        return "aeiou".indexOf(c) >= 0;
    }

    private static int near(Rng r, int x) {
        int d = 1 + r.nextInt(2);
        return x - d >= 0 && r.nextInt(2) == 0 ? x - d : x + d;
    }

    /**
     * A word list as an input line. The label puts a space before every word, so each word is the
     * same tokens here as in the answer sentence: a tokenizer trained on prose splits a word at the
     * start of a line into rare pieces but has its space-led form whole, and a small model copies
     * tokens far sooner than it learns to spell them.
     */
    private static String words(List<String> w) {
        return "Words: " + String.join(" ", w);
    }

    private static List<String> pick(Rng r, String[] words, int k) {
        List<String> out = new ArrayList<>(k);
        while (out.size() < k) {
            String w = words[r.nextInt(words.length)];
            if (!out.contains(w)) out.add(w);
        }
        return out;
    }
}
