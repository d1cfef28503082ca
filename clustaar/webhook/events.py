"""Names of the notification topics the Clustaar platform sends."""

#: Sent each time a conversation reaches a step that has its webhook enabled.
CONVERSATION_STEP_REACHED = "conversation.step_reached"
