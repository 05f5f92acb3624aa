package dev.tessera.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringFilterTest {
    @Test
    void textThatMayStartAStopStringIsHeldBackUntilDecided() {
        StopStringFilter f = new StopStringFilter(List.of("\nUSER:"));
        assertEquals("Hello", f.push("Hello\nUS"));
        assertEquals("\nUS and more", f.push(" and more"));
        assertFalse(f.stopped());
    }

    @Test
    void outputEndsBeforeTheStopStringAcrossPieces() {
        StopStringFilter f = new StopStringFilter(List.of("</s>", "\nUSER:"));
        StringBuilder out = new StringBuilder();
        for (String piece : List.of("It is", " blue.", "\nU", "SE", "R: next")) {
            out.append(f.push(piece));
        }
        assertTrue(f.stopped());
        assertEquals("It is blue.", out.toString());
        assertEquals("", f.push("ignored"));
    }

    @Test
    void theEarliestStopStringWins() {
        StopStringFilter f = new StopStringFilter(List.of("B", "A"));
        assertEquals("x", f.push("xAyB"));
    }

    @Test
    void heldBackTextComesOutWhenFlushed() {
        StopStringFilter f = new StopStringFilter(List.of("STOP"));
        assertEquals("abc ", f.push("abc ST"));
        assertEquals("ST", f.flush());
    }
}
