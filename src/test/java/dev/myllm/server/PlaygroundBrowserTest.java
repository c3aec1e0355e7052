package dev.myllm.server;

import static dev.myllm.server.TestServers.json;
import static dev.myllm.server.TestServers.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.myllm.model.RandomModels;
import dev.myllm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The playground page in a real browser: Debian's Chromium, headless, through its chromedriver,
 * against a server with a tiny random model. Set MYLLM_SKIP_BROWSER=1 to skip; otherwise a
 * missing browser fails the test (CI installs it).
 */
class PlaygroundBrowserTest {
    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("MYLLM_CHROMIUM", "/usr/bin/chromium"));
    static final Path DRIVER = Path.of(System.getenv().getOrDefault("MYLLM_CHROMEDRIVER", "/usr/bin/chromedriver"));

    private static ServedModel model;
    private static OpenAiServer server;
    private static ChromeDriver driver;
    private static Path profile;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeFalse("1".equals(System.getenv("MYLLM_SKIP_BROWSER")), "MYLLM_SKIP_BROWSER=1");
        model = PlaygroundServers.model(5);
        server = PlaygroundServers.start(model, ServerConfig.defaults());
        base = "http://127.0.0.1:" + server.port();
        driver = browser(1280, 1000);
    }

    /** A fresh headless Chromium; fails with what to install when there is none. */
    static ChromeDriver browser(int width, int height) throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(DRIVER)) {
            throw new AssertionError("the browser tests need " + CHROMIUM + " and " + DRIVER
                    + ": apt-get install -y chromium chromium-driver (or set MYLLM_SKIP_BROWSER=1 to skip them)");
        }
        profile = Files.createTempDirectory("myllm-chromium");
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=" + width + "," + height);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        o.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
        return new ChromeDriver(service, o);
    }

    @AfterAll
    static void stop() throws Exception {
        if (driver != null) driver.quit();
        if (server != null) server.close();
        if (profile != null) {
            try (var s = Files.walk(profile)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Polls until {@code done} holds (exceptions count as not yet), or fails after 20 s. */
    static final class Wait {
        void until(java.util.function.Predicate<ChromeDriver> done) throws InterruptedException {
            long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            RuntimeException last = null;
            while (System.nanoTime() < end) {
                try {
                    if (done.test(driver)) return;
                } catch (RuntimeException e) {
                    last = e;
                }
                Thread.sleep(50);
            }
            throw new AssertionError("timed out waiting; page status: "
                    + driver.findElement(By.id("status")).getText(), last);
        }
    }

    private static Wait waiting() {
        return new Wait();
    }

    private static List<WebElement> chips() {
        return driver.findElements(By.cssSelector("#chips .chip"));
    }

    @Test
    void theWholePageWorksInChromium() throws Exception {
        long t0 = System.nanoTime();
        driver.get(base + "/");
        waiting().until(d -> !chips().isEmpty());
        System.err.printf("page up %.1f s%n", (System.nanoTime() - t0) / 1e9);
        Tokenizer tok = model.tokenizer();

        // type a text: chips with the tokenizer's ids, a visible leading space, counts
        String text = "The cat sat on the mat.\nIt purred";
        WebElement area = driver.findElement(By.id("text"));
        area.clear();
        area.sendKeys(text);
        int[] ids = tok.encode(text);
        waiting().until(d -> chips().size() == ids.length && chips().getLast().getAttribute("data-id").equals(Integer.toString(ids[ids.length - 1])));
        List<WebElement> chips = chips();
        for (int i = 0; i < ids.length; i++) {
            assertThat(chips.get(i).getAttribute("data-id")).isEqualTo(Integer.toString(ids[i]));
            assertThat(chips.get(i).getAttribute("title")).startsWith("id " + ids[i]);
        }
        assertThat(chips.get(1).getText()).isEqualTo("␣cat");
        assertThat(chips.stream().anyMatch(c -> c.getText().contains("↵"))).isTrue();
        assertThat(driver.findElement(By.id("stats")).getText())
                .startsWith(ids.length + " tokens · " + text.length() + " characters · loss ");

        // a head from the grid of small multiples, drawn big: nothing above the diagonal, something on every row
        driver.findElement(By.cssSelector("#heads canvas[data-head='2']")).click();
        assertThat(driver.findElement(By.id("head")).getAttribute("value")).isEqualTo("2");
        // the pixels, read back from the canvas: '0' for a white one, '1' for any other, row by row
        String px = (String) js("""
                const c = document.getElementById('heatmap'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let s = '';
                for (let o = 0; o < d.length; o += 4) s += d[o] === 255 && d[o + 1] === 255 && d[o + 2] === 255 ? '0' : '1';
                return s;""");
        int size = ((Number) js("return document.getElementById('heatmap').width")).intValue();
        assertThat(px).hasSize(size * size);
        int cell = size / ids.length;
        assertThat(cell * ids.length).isEqualTo(size);
        for (int i = 0; i < ids.length; i++) {
            boolean inked = false;
            for (int j = 0; j <= i; j++) inked |= px.charAt((i * cell + cell / 2) * size + j * cell + cell / 2) == '1';
            assertThat(inked).as("row %d shows its weights", i).isTrue();
        }
        // every pixel strictly above the diagonal is white
        for (int y = 0; y < size; y++) {
            for (int x = (y / cell + 1) * cell; x < size; x++) {
                if (px.charAt(y * size + x) != '0') throw new AssertionError("pixel (" + x + ", " + y + ") above the diagonal is not blank");
            }
        }

        // hover a token: its predictions equal /v1/inspect's
        int at = 3;
        new Actions(driver).moveToElement(chips().get(at)).perform();
        waiting().until(d -> d.findElement(By.id("pred-title")).getText().contains("position " + at + ")"));
        JsonNode inspected = json(post(base + "/v1/inspect", "{\"text\": " + PlaygroundServers.JSON.writeValueAsString(text) + ", \"top_k\": 10}", null));
        JsonNode pred = inspected.get("predictions").get(at);
        List<String> expected = new ArrayList<>();
        for (JsonNode p : pred.get("top")) expected.add(percent(p.get("prob").asDouble()));
        List<String> shown = driver.findElements(By.cssSelector("#pred-bars .p")).stream().map(WebElement::getText).toList();
        assertThat(shown).isEqualTo(expected);
        assertThat(driver.findElement(By.id("pred-actual")).getText())
                .contains("id " + ids[at + 1]).contains("rank " + pred.get("next_rank").asInt());
        // and the chips light up what the token attends to
        String att = (String) js("return getComputedStyle(document.querySelectorAll('.chip')[0]).getPropertyValue('--att')");
        assertThat(Double.parseDouble(att.trim())).isGreaterThan(0);

        // the temperature moves the last position's distribution (lower: sharper)
        double before = topShown();
        WebElement temp = driver.findElement(By.id("temperature"));
        temp.click(); // the middle of the slider: 1.00
        for (int i = 0; i < 10; i++) temp.sendKeys(Keys.ARROW_LEFT);
        String t = driver.findElement(By.id("temperature-v")).getText();
        assertThat(Double.parseDouble(t)).isLessThan(0.9);
        double after = topShown();
        assertThat(after).isGreaterThan(before);

        // append the greedy token: the argmax of the last position
        int greedy = inspected.get("predictions").get(ids.length - 1).get("top").get(0).get("id").asInt();
        driver.findElement(By.id("append-greedy")).click();
        waiting().until(d -> chips().size() == ids.length + 1);
        assertThat(chips().getLast().getAttribute("data-id")).isEqualTo(Integer.toString(greedy));

        // generate a few tokens, streamed through /v1/completions
        String sofar = area.getAttribute("value");
        WebElement n = driver.findElement(By.id("gen-n"));
        n.clear();
        n.sendKeys("4");
        driver.findElement(By.id("generate")).click();
        waiting().until(d -> d.findElement(By.id("status")).getText().contains("analysed")
                && d.findElement(By.id("generate")).isEnabled()
                && area.getAttribute("value").length() > sofar.length());
        assertThat(area.getAttribute("value")).startsWith(sofar);
        waiting().until(d -> chips().size() > ids.length + 1);

        // keyboard: the chips are reachable and arrow keys move the selection
        chips().get(0).click();
        new Actions(driver).sendKeys(Keys.ARROW_RIGHT).sendKeys(Keys.ARROW_RIGHT).perform();
        assertThat(driver.switchTo().activeElement().getAttribute("data-i")).isEqualTo("2");

        List<String> errors = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) if (e.getLevel().intValue() >= Level.WARNING.intValue()) errors.add(e.getMessage());
        assertThat(errors).as("console errors").isEmpty();
    }

    @Test
    void aClassifierIsNamedNotDescribedAsALanguageModel() throws Exception {
        // the model panel said "output head: tied to the token embedding" and showed a prompt format for a classifier
        dev.myllm.finetune.GPTClassifier c = dev.myllm.finetune.GPTClassifier.withNewHead(RandomModels.uniform(PlaygroundServers.CONFIG, 6),
                List.of("ham", "spam"), true, dev.myllm.finetune.TokenRule.LAST, 50256, new dev.myllm.tensor.Rng(4));
        ServedModel clf = ServedModel.classifier("spam", c, model.tokenizer(), model.decoder(), 0L);
        try (OpenAiServer s = PlaygroundServers.start(clf, ServerConfig.defaults())) {
            driver.get("http://127.0.0.1:" + s.port() + "/");
            String said = "error: The model 'spam' is a classifier, which the playground does not inspect: use POST /v1/classify";
            waiting().until(d -> d.findElement(By.id("status")).getText().equals(said));
            assertThat(driver.findElement(By.id("model")).getText()).isEmpty();
            assertThat(driver.findElement(By.id("wrap")).isDisplayed()).isFalse();
            // the buttons say why rather than failing in the page's script
            driver.findElement(By.id("append-greedy")).click();
            driver.findElement(By.id("generate")).click();
            driver.findElement(By.id("analyse")).click();
            waiting().until(d -> d.findElement(By.id("status")).getText().contains("predicts no next tokens to inspect"));
            assertThat(chips()).isEmpty();
            List<String> errors = new ArrayList<>();
            for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
                // the browser logs each refused request ("the server responded with a status of 404"); nothing else may fail
                if (e.getLevel().intValue() >= Level.WARNING.intValue() && !e.getMessage().contains("status of 404")) errors.add(e.getMessage());
            }
            assertThat(errors).as("console errors").isEmpty();
        }
    }

    /**
     * Not a check but the README's picture: with MYLLM_SCREENSHOT_URL (a running {@code myllm serve})
     * and MYLLM_SCREENSHOT_OUT (a .png path) set, types a sentence, picks a token and saves the page.
     */
    @Test
    void screenshotForTheReadme() throws Exception {
        String url = System.getenv("MYLLM_SCREENSHOT_URL"), out = System.getenv("MYLLM_SCREENSHOT_OUT");
        Assumptions.assumeTrue(url != null && out != null, "MYLLM_SCREENSHOT_URL and MYLLM_SCREENSHOT_OUT not set");
        driver.manage().window().setSize(new org.openqa.selenium.Dimension(Integer.parseInt(System.getenv().getOrDefault("MYLLM_SCREENSHOT_WIDTH", "1280")), 1640));
        driver.get(url);
        waiting().until(d -> !chips().isEmpty());
        WebElement area = driver.findElement(By.id("text"));
        area.clear();
        area.sendKeys(System.getenv().getOrDefault("MYLLM_SCREENSHOT_TEXT",
                "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife."));
        String text = area.getAttribute("value");
        waiting().until(d -> d.findElement(By.id("stats")).getText().contains(" · " + text.length() + " characters"));
        Thread.sleep(500);
        new Actions(driver).moveToElement(chips().get(Math.min(12, chips().size() - 1))).perform();
        Thread.sleep(300);
        byte[] png = driver.getScreenshotAs(org.openqa.selenium.OutputType.BYTES);
        Files.write(Path.of(out), png);
    }

    private static double topShown() {
        String s = driver.findElements(By.cssSelector("#dist-bars .p")).getFirst().getText();
        return s.endsWith("%") ? Double.parseDouble(s.substring(0, s.length() - 1)) / 100 : Double.parseDouble(s);
    }

    /** The page's format of a probability. */
    static String percent(double p) {
        if (p >= 0.001) return String.format(Locale.ROOT, "%.1f%%", 100 * p);
        String s = String.format(Locale.ROOT, "%.1e", p);      // 1.2e-04: JavaScript writes 1.2e-4
        return s.replaceAll("e([+-])0*(\\d)", "e$1$2");
    }
}
