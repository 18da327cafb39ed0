"""Sectoral identities, shaped like the RPPS / Annuaire Santé records PSC serves.

A practitioner (civil identity + national id) has ordered *exercices* (a profession, with the
name used in practice and a savoir-faire), each with ordered *activities* (situations
d'exercice in a structure). String fields that reach userinfo store ``""`` when empty, never
NULL, because PSC sends ``""`` for every absent value.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column, relationship, validates

from psc_idp.extensions import db
from psc_idp.timeutil import UTCDateTime, now

#: Address columns of an activity ("coordonnées structure"), in PSC userinfo order.
ADDRESS_FIELDS = (
    "complement_destinataire",
    "complement_point_geo",
    "numero_voie",
    "indice_repetition_voie",
    "code_type_voie",
    "libelle_voie",
    "mention_distribution",
    "bureau_cedex",
    "code_postal",
    "code_commune",
    "code_pays",
    "code_departement",
)

#: Other string columns of an activity.
ACTIVITY_FIELDS = (
    "mode",
    "sector",
    "pharmacist_section",
    "role",
    "genre",
    "siret",
    "siren",
    "finess_site",
    "finess_juridique",
    "structure_id",
    "raison_sociale",
    "enseigne",
    "telephone",
    "telephone2",
    "telecopie",
    "email",
    "ancien_identifiant",
    "autorite_enregistrement",
)

#: String columns of an exercice.
EXERCICE_FIELDS = (
    "profession",
    "category",
    "civilite_exercice",
    "nom_exercice",
    "prenom_exercice",
    "savoir_faire_type",
    "savoir_faire",
)

#: PSC's extract separates given names with an apostrophe (``ANNE'CATHERINE'``).
GIVEN_NAMES_SEPARATOR = "'"


class GivenNames:
    """The given names, stored as one column joined by ``GIVEN_NAMES_SEPARATOR``: shared by the
    model and by the read-only records of the hot paths (``directory.reading``)."""

    @property
    def given_name_list(self) -> list[str]:
        return [name for name in self.given_names.split(GIVEN_NAMES_SEPARATOR) if name]

    @property
    def first_given_name(self) -> str:
        names = self.given_name_list
        return names[0] if names else ""


def _text(length: int) -> MappedColumn[str]:
    return mapped_column(String(length), nullable=False, default="", server_default="")


class Practitioner(GivenNames, db.Model):
    __tablename__ = "dir_practitioner"

    id: Mapped[int] = mapped_column(primary_key=True)
    national_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    id_type: Mapped[str] = _text(1)  # first character of the national id: 8 RPPS, 0 ADELI…
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    civility: Mapped[str] = _text(8)  # codeCivilite: M or MME
    family_name: Mapped[str] = _text(200)
    given_names: Mapped[str] = _text(300)  # all given names, "'"-separated
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str] = _text(1)  # M or F
    birth_place: Mapped[str | None] = mapped_column(String(200), nullable=True)
    birth_commune_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    birth_country_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    # Contact data, used to activate the e-CPS app (codes by e-mail and SMS).
    email: Mapped[str] = _text(254)
    phone: Mapped[str] = _text(32)
    # SHA-256 of the record an Annuaire Santé import last wrote (NULL for realm-file entries):
    # an unchanged person is skipped without reading its rows.
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=now, onupdate=now
    )

    # selectin: a practitioner always comes with all of its sectoral identity in a fixed
    # number of queries, whatever loaded it.
    exercices: Mapped[list[Exercice]] = relationship(
        back_populates="practitioner",
        cascade="all, delete-orphan",
        order_by="Exercice.position",
        collection_class=ordering_list("position"),
        lazy="selectin",
    )
    other_ids: Mapped[list[OtherId]] = relationship(
        back_populates="practitioner",
        cascade="all, delete-orphan",
        order_by="OtherId.position",
        collection_class=ordering_list("position"),
        lazy="selectin",
    )

    @validates("national_id")
    def _set_id_type(self, _key: str, value: str) -> str:
        self.id_type = value[:1]
        return value

    def __repr__(self) -> str:
        return f"<Practitioner {self.national_id} {self.family_name}>"


class Exercice(db.Model):
    """Exercice professionnel: one profession of the practitioner."""

    __tablename__ = "dir_exercice"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("dir_practitioner.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    profession: Mapped[str] = _text(8)  # TRE_G15 (TRE_R85 for staff outside it)
    category: Mapped[str] = _text(4)  # TRE_R09: C civil, E étudiant, M militaire
    civilite_exercice: Mapped[str] = _text(8)  # DR, PR…
    nom_exercice: Mapped[str] = _text(200)
    prenom_exercice: Mapped[str] = _text(200)
    savoir_faire_type: Mapped[str] = _text(8)  # TRE_R04, e.g. S
    savoir_faire: Mapped[str] = _text(16)  # e.g. SM26

    practitioner: Mapped[Practitioner] = relationship(back_populates="exercices")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="exercice",
        cascade="all, delete-orphan",
        order_by="Activity.position",
        collection_class=ordering_list("position"),
        lazy="selectin",
    )


class Activity(db.Model):
    """Situation d'exercice: where and how an exercice is practised."""

    __tablename__ = "dir_activity"
    # The FHIR Organization is the first activity of a structure id: (structure_id, id) finds
    # it in one index probe; on structure_id alone PostgreSQL may walk the primary key for
    # ``ORDER BY id LIMIT 1`` instead, slower the larger the table.
    __table_args__ = (Index("ix_dir_activity_structure_id", "structure_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercice_id: Mapped[int] = mapped_column(
        ForeignKey("dir_exercice.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    mode: Mapped[str] = _text(4)  # TRE_R23: L, S, B
    sector: Mapped[str] = _text(8)  # TRE_R02: SA07…
    pharmacist_section: Mapped[str] = _text(4)  # TRE_G05: A, D, G, H…
    role: Mapped[str] = _text(16)  # TRE_R21: FON-03…
    genre: Mapped[str] = _text(8)  # TRE_R22: GENR01…
    siret: Mapped[str] = _text(14)
    siren: Mapped[str] = _text(9)
    finess_site: Mapped[str] = _text(9)
    finess_juridique: Mapped[str] = _text(9)
    structure_id: Mapped[str] = _text(64)  # identifiant technique (R…, F…, C…)
    raison_sociale: Mapped[str] = _text(300)
    enseigne: Mapped[str] = _text(300)
    complement_destinataire: Mapped[str] = _text(200)
    complement_point_geo: Mapped[str] = _text(200)
    numero_voie: Mapped[str] = _text(16)
    indice_repetition_voie: Mapped[str] = _text(8)
    code_type_voie: Mapped[str] = _text(8)
    libelle_voie: Mapped[str] = _text(200)
    mention_distribution: Mapped[str] = _text(200)
    bureau_cedex: Mapped[str] = _text(200)
    code_postal: Mapped[str] = _text(16)
    code_commune: Mapped[str] = _text(8)
    code_pays: Mapped[str] = _text(8)
    telephone: Mapped[str] = _text(32)
    telephone2: Mapped[str] = _text(32)
    telecopie: Mapped[str] = _text(32)
    email: Mapped[str] = _text(254)
    code_departement: Mapped[str] = _text(4)
    # 1+FINESS, 3+SIRET, 4+RPPS cabinet…; indexed: the Organization's identifier.
    ancien_identifiant: Mapped[str] = mapped_column(
        String(64), nullable=False, default="", server_default="", index=True
    )
    autorite_enregistrement: Mapped[str] = _text(64)  # e.g. CNOM/CNOM/CNOM

    exercice: Mapped[Exercice] = relationship(back_populates="activities")


class OtherId(db.Model):
    """Another identifier of the practitioner (``otherIds`` claim), e.g. a former ADELI."""

    __tablename__ = "dir_other_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("dir_practitioner.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    identifiant: Mapped[str] = _text(64)
    origine: Mapped[str] = _text(32)
    qualite: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    practitioner: Mapped[Practitioner] = relationship(back_populates="other_ids")
