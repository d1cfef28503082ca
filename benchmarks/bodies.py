"""Notification bodies for the benchmarks and the equivalence tests.

``large_notification(i)`` is a realistic ``conversation.step_reached`` notification of
about 13 KB: an interlocutor with names, email and custom attributes, 50 session values,
a message input and 30 actions of 17 kinds whose texts carry HTML and accents. The step
and its actions are the same for every ``i`` (as for one step of a real bot); the
interlocutor's names, email, custom attribute values and the message text differ for
every ``i``, and some of them carry ``&``, ``<`` or ``'`` as real people's input does.
"""
from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

#: The shipped vector (contract §2), as exact bytes.
SMALL_VECTOR = (pathlib.Path(__file__).resolve().parent.parent
                / "tests" / "data" / "step_reached_minimal.json").read_bytes()

STEP_ID = "5c1b7a0e1a2b3c4d5e6f7a80"
_OTHER_STEP = "5c1b7a0e1a2b3c4d5e6f7a81"

_FIRST = ["Élodie", "José", "Zoë", "François", "Anaïs", "Björn", "Siobhán", "Łukasz", "Chloé",
          "Noémie", "Jean-Loïc", "Ana Lúcia", "Mehdi", "Aurélien", "Hélène", "Ngozi"]
_LAST = ["Dupré", "O'Connor", "García Márquez", "Müller", "Nguyễn", "Lefèvre", "Smith & Sons",
         "de la Tour", "Øster", "Kowalski", "Benoît", "Da Silva"]
_MESSAGES = [
    "Bonjour, je voudrais suivre ma commande n°{n} s'il vous plaît",
    "Est-ce que la livraison est gratuite à partir de {n} € ?",
    "Merci beaucoup, c'est parfait ! 😊 (réf. {n})",
    "Je veux parler à un conseiller & pas à un robot, dossier {n}",
    "J'adore votre boutique <3 commande {n}",
    "Où en est mon remboursement ? Ça fait {n} jours…",
    "Hola, ¿hablan español? pedido {n}",
    "Le produit {n} est-il disponible en taille M ?",
]


def _html(text: str) -> str:
    return f"<p>{text} — <b>à très vite</b> ! <a href=\"https://exemple.fr/aide\" " \
           f"target=\"_blank\">Aide & FAQ</a><br><script>alert(1)</script></p>"


def _target(step: str = _OTHER_STEP) -> dict[str, Any]:
    return {"type": "step", "id": step, "name": "Étape suivante"}


def _go_to() -> dict[str, Any]:
    return {"type": "go_to_action", "target": _target(), "sessionValues": {"origine": "bouton"}}


def _actions() -> list[dict[str, Any]]:
    """30 actions of 17 kinds, the same for every notification of the step."""
    text: dict[str, Any] = {"type": "send_text_action",
            "alternatives": [_html("Bienvenue chez nous, ravi de vous voir"),
                             "Salut ! Qu'est-ce qui vous amène aujourd'hui ?"]}
    kinds: list[dict[str, Any]] = [
        text,
        {"type": "send_quick_replies_action", "message": "Que souhaitez-vous faire ?",
         "buttons": [{"type": "quick_reply", "title": f"Option n°{i} — élevée", "action": _go_to()}
                     for i in range(3)]},
        {"type": "send_cards_action", "cards": [
            {"type": "card", "title": f"Produit <i>phare</i> {i}", "alt": "visuel",
             "subtitle": "Prix réduit & livré", "imageURL": f"https://cdn.exemple.fr/p{i}.jpg",
             "url": "https://exemple.fr", "buttons": [
                 {"type": "button", "title": "Voir", "action": {
                     "type": "open_url_action", "url": f"https://exemple.fr/p{i}?a=1&b=2"}}]}
            for i in range(2)]},
        {"type": "send_simple_cards_action", "cards": [
            {"type": "simple_card", "title": "Nos magasins", "subtitle": "Près de chez vous",
             "imageURL": "https://cdn.exemple.fr/m.jpg", "buttons": [
                 {"type": "open_url_button", "title": "Carte",
                  "action": {"type": "open_url_action", "url": "https://exemple.fr/carte"}}]}]},
        {"type": "send_image_action", "alt": "Bannière d'été",
         "imageURL": " https://cdn.exemple.fr/ete.png "},
        {"type": "send_email_action", "fromEmail": "bot@exemple.fr", "fromName": "L'équipe",
         "recipient": "support@exemple.fr", "subject": "Nouvelle demande — priorité haute",
         "content": _html("Un client a besoin d'aide"), "replyToEmail": "noreply@exemple.fr",
         "replyToName": "Service client", "userAttachments": False},
        {"type": "wait_action", "duration": 1.5},
        {"type": "store_session_value_action", "key": "etape", "value": "accueil & tri",
         "add": False, "isInt": False},
        {"type": "set_user_attribute_action", "key": "segment", "value": "fidèle <vip>",
         "add": False, "isInt": False},
        {"type": "ask_location_action", "message": "Où êtes-vous ? <em>ville</em>",
         "action": _go_to()},
        {"type": "jump_to_action", "defaultTarget": _target(), "connections": [
            {"type": "flow_connection", "target": _target(), "predicates": [
                {"type": "connection_predicate",
                 "condition": {"type": "equals", "expected": "oui"},
                 "valueGetter": {"type": "session_value", "key": "choix"}}]}]},
        {"type": "send_webhook_request_action", "url": " https://hooks.exemple.fr/crm ",
         "description": "Envoi au CRM — fiche client", "service": "custom", "fields": [
             {"type": "webhook_request_field", "key": "source", "value": "bot été"}]},
        {"type": "send_js_event_action", "event": " ouvrir-chat ", "payload": {"x": 1}},
        {"type": "create_zendesk_ticket_action", "ticketType": "question",
         "ticketPriority": "normal", "subject": "Demande <b>client</b>",
         "description": _html("Le client attend une réponse"), "tags": ["bot", "été"],
         "groupID": "123", "assigneeID": "456",
         "user": {"email": " client@exemple.fr ", "name": "Client & Co", "phoneNumber": "+33"}},
        {"type": "send_choices_list_action", "message": "Choisissez une catégorie",
         "placeholder": "Catégorie…", "action": _go_to(), "sections": [
             {"type": "section", "title": "Rayons", "choices": [
                 {"type": "choice", "title": f"Rayon {name}", "imageUrl": None,
                  "sessionValues": {"rayon": name}} for name in ("maison", "jardin & déco")]}]},
        {"type": "create_user_request_action", "message": " Un humain va vous répondre <3 ",
         "assigneeID": " 42 ", "groupID": None},
        {"type": "pause_bot_action"},
    ]
    repeats: list[dict[str, Any]] = [dict(text, alternatives=[
        _html(f"Étape {i} : voici la suite de votre parcours, pas à pas"),
        f"Étape {i} ✔ — nous préparons la réponse à votre demande, merci de patienter "
        "quelques instants, un conseiller prend le relais si besoin"])
        for i in range(30 - len(kinds))]
    return kinds + repeats


_USER_DATA = json.dumps({"source": "été", "version": 12, "notes": (
    "Étape d'accueil : présentation, tri des demandes et orientation vers le bon service "
    "(ventes, après-vente, SAV).")}, ensure_ascii=False)
_VALUES = {f"valeur_{i}": (f"réponse n°{i} : <b>d'accord</b>, à très bientôt" if i % 3 else i)
           for i in range(49)}


def large_notification(index: int) -> dict[str, Any]:
    """The ``index``-th distinct large notification (see the module docstring), built anew:
    callers may change it."""
    # Cycles, not blocks: every batch of consecutive indexes has the same mix of texts.
    first, last = _FIRST[index % len(_FIRST)], _LAST[index % len(_LAST)]
    message = _MESSAGES[index % len(_MESSAGES)].format(n=index)
    return {
        "botID": "5c1b7a0e1a2b3c4d5e6f7a70", "timestamp": 1795867200 + index,
        "topic": "conversation.step_reached",
        "data": {
            "type": "step_reached_event", "channel": "web",
            "interlocutor": {
                "id": f"{index:024x}", "userID": f"u-{index}", "externalID": None,
                "location": {"lat": 48.85, "long": 2.35},
                "email": f"{first.lower()}.{index}@exemple.fr".replace(" ", ""),
                "firstName": f"{first} {index}", "lastName": f"{last} {index}",
                "phoneNumber": f"+33 6 {index % 100:02d} 00 00 00",
                "customAttributes": {"plan": f"premium-{index}", "ville": f"Lyon {index}",
                                     "societe": f"{last} & associés {index}",
                                     "fonction": f"Responsable d'équipe n°{index}",
                                     "source": f"campagne été {index % 7}",
                                     "commentaire": f"Client depuis {index % 12} mois, préfère"
                                                    f" être contacté le matin"},
                "isLogged": index % 2 == 0, "usedToTest": False,
            },
            "session": {"values": dict(_VALUES, visites=index)},
            "step": {"id": STEP_ID, "name": "Accueil — étape principale",
                     "userData": _USER_DATA, "actions": _actions()},
            "input": {"type": "message", "text": message, "attachments": []},
        },
    }


def large_body(index: int) -> bytes:
    """``large_notification(index)`` as the platform sends it (compact UTF-8 JSON)."""
    return json.dumps(large_notification(index), ensure_ascii=False,
                      separators=(",", ":")).encode()


#: The inputs a notification may carry besides the large body's message (kind, input).
INPUTS = {
    "message": {"type": "message", "text": "Bonjour & merci", "attachments": [
        {"type": "image", "url": "https://cdn.exemple.fr/photo.jpg"}]},
    # clustaar.schemas 1.10 cannot load this one (its Message model refuses the attributes).
    "reply": {"type": "legacy_reply_to_message_action", "text": "<b>Oui</b>, d'accord"},
    "url": {"type": "url_loaded_event", "url": " https://exemple.fr/panier "},
    "go_to": _go_to(),
    "event": {"type": "custom_event", "name": "panier abandonné"},
}


def _more_actions() -> list[dict[str, Any]]:
    target = _target()
    intent = {"type": "intent", "id": "5c1b7a0e1a2b3c4d5e6f7aa0"}
    return [
        {"type": "customer_satisfaction_action", "message": "Satisfait ?", "choices": [
            {"type": "customer_satisfaction_choice", "kind": "positive", "label": "Oui",
             "target": target, "matchingIntent": intent},
            {"type": "customer_satisfaction_choice", "kind": "negative", "label": "Non",
             "target": None}]},
        {"type": "send_quick_replies_action", "message": "Choix", "buttons": [
            {"type": "quick_reply", "title": "Répondre",
             "action": {"type": "legacy_reply_to_message_action", "message": "Réponse"}}]},
        {"type": "send_choices_list_action", "message": "Liste", "placeholder": "…",
         "action": {"type": "go_to_action", "target": target}, "sections": [
             {"type": "section", "title": "Titre", "choices": [
                 {"type": "choice", "title": "Un", "imageUrl": " https://x.fr/i.png "}]}]},
        {"type": "jump_to_action", "defaultTarget": None, "connections": [
            {"type": "flow_connection", "target": target, "predicates": [
                {"type": "connection_predicate", "valueGetter": {"type": "message"},
                 "condition": {"type": "match_intent", "intent": intent}},
                {"type": "connection_predicate", "valueGetter": {"type": "message"},
                 "condition": {"type": "match_regexp", "pattern": "^(oui|yes)$"}}]}]},
    ]


def every_sanitised_field(index: int = 0, input_kind: str = "message") -> dict[str, Any]:
    """The large body plus actions it lacks, with one of the :data:`INPUTS`: every sanitised
    field of v1 and the schemas with their own ``load`` (lupin cannot dump some of these)."""
    data = large_notification(index)
    data["data"]["step"]["actions"] += _more_actions()
    data["data"]["input"] = copy.deepcopy(INPUTS[input_kind])
    return data
