package dev.tessera.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.generate.ChatTemplate.Message;
import dev.tessera.generate.ChatTemplate.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The renderings pinned here are those of llama.cpp's built-in "llama2" and "vicuna" templates. */
class ChatTemplateTest {
    private static final List<Message> CONVERSATION = List.of(
            new Message(Role.SYSTEM, "You are a helpful assistant"),
            new Message(Role.USER, "Hello"),
            new Message(Role.ASSISTANT, "Hi there"),
            new Message(Role.USER, "Who are you"));

    @Test
    void llama2WrapsTurnsInInstTagsWithTheSystemPromptInTheFirst() {
        assertEquals("<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there</s>"
                + "<s>[INST] Who are you [/INST]", ChatTemplate.LLAMA2.render(CONVERSATION, true));
    }

    @Test
    void vicunaUsesUserAndAssistantPrefixes() {
        assertEquals("You are a helpful assistant\n\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are you\nASSISTANT:",
                ChatTemplate.VICUNA.render(CONVERSATION, true));
    }

    @Test
    void aChatRenderedTurnByTurnEqualsTheWholeConversation() {
        // What a ChatSession puts in the KV cache: turn 1 with its generation prompt, the reply the
        // model generated (" Hi there" then its EOS token, "</s>"), then turn 2 rendered on its own.
        for (ChatTemplate t : ChatTemplate.values()) {
            String turn1 = t.render(CONVERSATION.subList(0, 2), true, true);
            String turn2 = t.render(CONVERSATION.subList(3, 4), true, false);
            assertEquals(t.render(CONVERSATION, true), turn1 + " Hi there</s>" + turn2, t.name());
        }
    }

    @Test
    void unknownTemplateNamesAreRejected() {
        assertEquals(ChatTemplate.VICUNA, ChatTemplate.byName("vicuna"));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.byName("chatml"));
    }
}
