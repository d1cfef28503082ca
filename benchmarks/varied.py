"""Large notifications from a new user every time, for ``python -m benchmarks original``.

``varied_notification(index)`` starts from :func:`benchmarks.bodies.large_notification`
(about 13 KB: 30 actions, 50 session values) and replaces everything that belongs to the
user: the interlocutor (ids, names, e-mail, phone, custom attribute values), the message
and the session values. ``data.step`` (its id and actions) is left alone, so it is the same
bytes for every index, as for one step of a real bot.

The user's texts are drawn with ``random.Random(index)``: the same index gives the same
body in every process (both benchmark workers build the same bodies), and no two indexes
give the same body (the ids, the timestamp and the numbers in the texts carry the index).
About 15 % of last names and 17 % of messages carry markup as people type it (``<b>``,
``<i>``, ``&``, ``<3``, ``>``), drawn per user; the other names and messages, and every
other replaced field, carry none. So no cache of cleaned texts can help: every request
brings texts no earlier request had.
"""
from __future__ import annotations

import json
import random
import unicodedata
from typing import Any

from .bodies import large_notification

LAST_NAME_MARKUP_RATE = 0.15
MESSAGE_MARKUP_RATE = 0.17

_FIRST = ["Élodie", "José", "Zoë", "François", "Anaïs", "Björn", "Siobhán", "Łukasz", "Chloé",
          "Noémie", "Jean-Loïc", "Ana Lúcia", "Mehdi", "Aurélien", "Hélène", "Ngozi", "Camille",
          "Yusuf", "Ingrid", "Matteo", "Aïcha", "Pierre", "Léa", "Hiroshi"]
_LAST = ["Dupré", "García Márquez", "Müller", "Nguyễn", "Lefèvre", "de la Tour", "Øster",
         "Kowalski", "Benoît", "Da Silva", "Martin", "Bernard", "Rousseau", "Fontaine",
         "Okafor", "Lindqvist", "Moreau", "Chevalier", "Haddad", "Schmidt"]
#: How a last name carries markup when it does ({} is the name).
_NAME_MARKUP = ["<b>{}</b>", "<i>{}</i>", "{} & fils", "{} <3", "{} >> pro", "{} & Co",
                "<strong>{}</strong>", "{} &amp; associés"]
_MESSAGES = [
    "Bonjour, je voudrais suivre ma commande n°{a} s'il vous plaît",
    "Est-ce que la livraison est gratuite à partir de {b} € ?",
    "Merci beaucoup, c'est parfait ! (réf. {a})",
    "Je souhaite parler à un conseiller, dossier {a}",
    "Où en est mon remboursement ? Ça fait {b} jours…",
    "Hola, ¿hablan español? pedido {a}",
    "Le produit {a} est-il disponible en taille {size} ?",
    "Mon code promo {code} ne fonctionne pas",
    "Vous livrez à {city} ? J'ai besoin de {b} articles",
    "Bonsoir, la commande {a} est arrivée abîmée",
]
#: How a message carries markup when it does ({} is the message).
_MESSAGE_MARKUP = ["<b>URGENT</b> {}", "{} <3", "{} & merci d'avance", "<i>{}</i>",
                   "{} >:(", "> {}", "{} <br> merci", "{} & vite svp <3"]
_CITIES = ["Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "Genève", "Liège", "Québec"]
_PLANS = ["gratuit", "essentiel", "premium", "entreprise"]
_JOBS = ["Responsable d'équipe", "Acheteuse", "Gérant", "Directrice commerciale", "Étudiant"]
_ANSWERS = ["oui", "non", "peut-être", "plus tard", "livraison", "retour", "échange",
            "facture", "taille M", "couleur bleue", "paiement en 3 fois", "rappel demandé"]


def _ascii(text: str) -> str:
    """``text`` without accents or spaces, lower case: the local part of an e-mail."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.lower() if char.isalnum() or char in "-.")


def _session_values(rng: random.Random, index: int) -> dict[str, Any]:
    """50 values of this user's conversation: answers, amounts and counters."""
    values: dict[str, Any] = {}
    for number in range(49):
        if number % 3:
            values[f"valeur_{number}"] = (f"{rng.choice(_ANSWERS)} n°{rng.randrange(10**6)}, "
                                          f"à {rng.choice(_CITIES)}")
        else:
            values[f"valeur_{number}"] = rng.randrange(10**5)
    values["visites"] = index
    return values


def varied_notification(index: int) -> dict[str, Any]:
    """The ``index``-th user's ``conversation.step_reached`` notification (see the module
    docstring), built anew: callers may change it."""
    rng = random.Random(index)
    data = large_notification(index)
    event = data["data"]
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    city, number = rng.choice(_CITIES), rng.randrange(10**6)
    shown_last = f"{last} {number}"
    if rng.random() < LAST_NAME_MARKUP_RATE:
        shown_last = rng.choice(_NAME_MARKUP).format(shown_last)
    message = rng.choice(_MESSAGES).format(
        a=f"{index}-{rng.randrange(10**6)}", b=rng.randrange(2, 500),
        size=rng.choice("SMLX"), code=f"ETE{rng.randrange(10**4)}", city=city)
    if rng.random() < MESSAGE_MARKUP_RATE:
        message = rng.choice(_MESSAGE_MARKUP).format(message)
    event["interlocutor"].update({
        "id": f"{index:024x}", "userID": f"u-{index}-{rng.randrange(10**9)}",
        "email": f"{_ascii(first)}.{_ascii(last)}.{number}@exemple.fr",
        "firstName": first, "lastName": shown_last,
        "phoneNumber": f"+33 6 {rng.randrange(100):02d} {rng.randrange(100):02d} "
                       f"{rng.randrange(100):02d} {rng.randrange(100):02d}",
        "customAttributes": {
            "plan": f"{rng.choice(_PLANS)}-{rng.randrange(100)}", "ville": city,
            "societe": f"{rng.choice(_LAST)} associés {rng.randrange(1000)}",
            "fonction": rng.choice(_JOBS), "source": f"campagne {rng.randrange(20)}",
            "commentaire": f"Client depuis {rng.randrange(1, 120)} mois, préfère être "
                           f"contacté {rng.choice(['le matin', 'le soir', 'par e-mail'])}"},
        "isLogged": rng.random() < 0.5,
    })
    event["session"] = {"values": _session_values(rng, index)}
    event["input"] = {"type": "message", "text": message, "attachments": []}
    return data


def varied_body(index: int) -> bytes:
    """``varied_notification(index)`` as the platform sends it (compact UTF-8 JSON)."""
    return json.dumps(varied_notification(index), ensure_ascii=False,
                      separators=(",", ":")).encode()


def has_markup(text: str) -> bool:
    """Whether ``text`` carries any of the markup characters the users type."""
    return any(char in text for char in "<>&")
