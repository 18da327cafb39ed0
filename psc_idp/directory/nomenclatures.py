"""The complete code lists (NOS, ANS) of the coded fields of the Annuaire Santé files.

``codes`` holds the labels psc-idp shows for the codes met in practice (the realm file is
checked against those); this module holds every code of each nomenclature the files carry,
current or retired (older files still carry retired codes), so that an import refuses a code
that exists nowhere and accepts every one that exists. Source: the ANS terminologies (TRE_R02,
TRE_R04, TRE_R21, TRE_R22, TRE_G05 and the savoir-faire of the RASS, JDV_J107), as published
in 2026; labels without the ``(SM)``-style suffix of their nomenclature.
"""

from __future__ import annotations


def _table(text: str) -> dict[str, str]:
    """``CODE label`` lines → {code: label}."""
    found: dict[str, str] = {}
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        code, _, name = line.partition(" ")
        found[code] = name.strip()
    return found


#: TRE_R02 SecteurActivite: SA01 to SA69.
SECTORS = _table(
    """
    SA01 Établissement public de santé
    SA02 Hôpital militaire du Service de santé des armées
    SA03 Établissement privé PSPH
    SA04 Établissement privé non PSPH
    SA05 Centre de santé
    SA06 Autre structure du Service de santé des armées
    SA07 Cabinet individuel
    SA08 Cabinet de groupe
    SA09 Exercice en société
    SA10 Transporteur sanitaire
    SA11 Entreprise d'intérim
    SA12 Établissement de soins et prévention
    SA13 Prévention et soins en entreprise
    SA14 Établissements scolaires, universitaires et de formation hors champ FINESS
    SA15 PMI et planification familiale
    SA16 Établissement pour personnes handicapées
    SA17 Établissement pour personnes âgées
    SA18 Établissement aide à la famille
    SA19 Établissements FINESS de formation aux professions sanitaires et sociales
    SA20 Établissement pour la protection de l'enfance
    SA21 Établissement d'hébergement et de réadaptation
    SA22 Recherche
    SA23 Assurance privée
    SA24 Organisme de sécurité sociale
    SA25 Laboratoire de biologie médicale
    SA26 Ministère ou service déconcentré
    SA27 Collectivité territoriale
    SA28 Association ou organisme humanitaire
    SA29 Laboratoire d'analyses et de biologie médicale
    SA30 Autre établissement sanitaire
    SA31 Répartition et distribution de médicaments et dispositifs médicaux
    SA32 Fabrication, exploitation et importation de médicaments et dispositifs médicaux
    SA33 Pharmacie d'officine
    SA34 Centre de dialyse
    SA35 Para-pharmacie
    SA36 Centre anti-cancer
    SA37 Centre de transfusion sanguine
    SA38 Pharmacie minière
    SA39 Pharmacie mutualiste
    SA40 Secteur privé, praticien hospitalier temps plein
    SA41 Autre établissement du domaine social ou médico-social
    SA42 Appareillage médical
    SA43 Secteur non défini
    SA44 Recrutement ou gestion RH
    SA45 Communication, marketing, consulting, média
    SA46 Fabrication, exploitation, importation, répartition, distribution de médicaments et DM
    SA47 Incendie et secours
    SA48 Entreprise industrielle et tertiaire hors pharmaceutique
    SA49 Entité outre-mer
    SA50 Permanence des soins ambulatoires hors cabinet
    SA51 Structure de coopération avec autorisation de soins
    SA52 Maison de santé ou pôle de santé
    SA53 Siège administratif d'un établissement de santé
    SA54 Centre de dépistage et de prévention
    SA55 Laboratoire pharmaceutique préparant et délivrant des allergènes
    SA56 Propharmacie
    SA57 Structure de coopération avec mission de coordination de soins
    SA58 Entreprise de taxis
    SA59 Laboratoire de biologie médicale hors catégorie standard
    SA60 Centres médicaux SNCF
    SA61 Structure dispensatrice à domicile d'oxygène à usage médical
    SA62 Ordre professionnel de santé
    SA63 Structures de coordination et d'orientation
    SA64 Société de téléconsultation
    SA65 Antenne de pharmacie
    SA66 Services de prévention et de santé au travail
    SA67 Maisons médicales de garde
    SA68 Services départementaux d'incendie et de secours
    SA69 Maisons de naissance
    """
)

#: TRE_R21 Fonction (``Code rôle``).
ROLES = _table(
    """
    FON-01 Titulaire de cabinet
    FON-02 Associé dans une société d'exercice
    FON-03 Titulaire d'officine
    FON-04 Remplaçant du titulaire d'officine
    FON-05 Adjoint
    FON-07 Gérant après incapacité ou décès
    FON-09 Responsable d'établissement
    FON-10 Responsable de gestion d'établissement
    FON-11 Directeur central du SSA
    FON-12 Médecin chef d'un hôpital d'instruction des armées
    FON-13 Directeur de région ou chef d'établissement du SSA
    FON-14 Adjoint au chef d'un hôpital ou d'un établissement
    FON-15 Directeur de laboratoire
    FON-16 Directeur adjoint de laboratoire
    FON-17 Collaborateur
    FON-18 Assistant
    FON-19 Praticien conseil
    FON-21 Médecin scolaire
    FON-22 Remplaçant, intérimaire, intermittent
    FON-23 Gérant
    FON-24 Médecin de santé publique
    FON-27 Pharmacien de santé publique
    FON-28 Médecin de prévention
    FON-29 Médecin du travail
    FON-30 Dispensateur de gaz médicaux
    FON-32 Régulateur libéral
    FON-33 Salarié en poste fixe
    FON-35 Chef de service
    FON-36 Délégué
    FON-37 Gérant de PUI
    FON-38 Responsable du service PMI
    FON-39 Exercice en PMI
    FON-40 Biologiste responsable
    FON-41 Biologiste médical
    FON-42 Assistant collaborateur
    FON-43 Cadre de santé
    FON-44 Cadre supérieur de santé
    FON-45 Directeur des soins
    FON-46 Enseignant salarié
    FON-47 Étudiant remplaçant, adjoint
    FON-48 Interne
    FON-49 Pharmacien responsable BPDO
    FON-50 Pharmacien adjoint BPDO
    FON-51 Remplacement partiel
    FON-52 Étudiant militaire
    FON-53 Médecin assistant
    FON-54 Permanence des soins ambulatoires hors cabinet
    FON-55 Participation libérale aux missions de service public d'un établissement de santé
    FON-56 Intervention libérale dans le cadre d'un GCS
    FON-57 Docteur junior
    FON-58 Activité en piscine ou bassin
    FON-59 Gérant d'antenne
    FON-60 Pharmacien remplaçant BPDO
    FON-61 Prestataire de services
    FON-62 Consultations de solidarité territoriale
    FON-63 Coordonnateur en EHPAD
    FON-AU Fonction non définie
    """
)

#: TRE_R22 GenreActivite.
GENRES = _table(
    """
    GENR01 Activité de soin et de pharmacie
    GENR02 Activité de soins ou de pharmacien en tant que remplaçant
    GENR03 Remplacement dans une activité de soins
    GENR04 Activité non soignante
    GENR05 Activité non médicale
    GENR06 Délégation de responsabilité pour continuité de service
    GENR07 Activité de soins en tant qu'intérimaire
    GENR08 Coordination et orientation
    GENR09 Administratif ou appui à l'organisation de l'accompagnement social/médico-social
    GENR10 Accompagnement social/médico-social à la vie sociale, professionnelle, éducative
    GENR11 Accompagnement social/médico-social au soin
    GENR12 Encadrement et organisation de l'accompagnement social/médico-social
    GENR13 Activité médico-administrative
    GENR99 Autre activité
    """
)

#: TRE_G05 SousSectionTableauCNOP (``Code section tableau pharmaciens``).
PHARMACIST_SECTIONS = _table(
    """
    A Pharmacien titulaire d'officine
    B Pharmacien d'entreprise — industrie
    C Pharmacien d'entreprise — distribution
    D Pharmacien adjoint, remplaçant ou gérant
    DA Pharmacien adjoint
    DH Pharmacien d'établissement de santé (section D)
    DM Pharmacien mutualiste ou minier
    E Pharmacien d'outre-mer
    EA Pharmacien titulaire d'officine — outre-mer
    EB Pharmacien d'entreprise — industrie — outre-mer
    EC Pharmacien d'entreprise — distribution — outre-mer
    ED Pharmacien adjoint — outre-mer
    EG Pharmacien biologiste — outre-mer
    EH Pharmacien d'établissement de santé — outre-mer
    G Pharmacien biologiste
    H Pharmacien d'établissement de santé
    M Pharmacien militaire
    """
)

#: TRE_R04 TypeSavoirFaire.
SAVOIR_FAIRE_TYPES = _table(
    """
    S Spécialité ordinale
    C Compétence
    CAPA Capacité
    CEX Compétence exclusive
    CM Compétence métier
    DEC Droit d'exercice complémentaire
    DNQ DESC non qualifiant
    FQ Fonction qualifiée
    OP Orientation particulière
    PAC Qualification PAC
    SH Spécialité de concours hospitalier
    SST Surspécialité de formation spécialisée transversale
    """
)

#: The savoir-faire of the RASS (JDV_J107), by type (TRE_R04): each type has its own
#: nomenclature (S: TRE_R38, C: TRE_R39, CEX: TRE_R40, DNQ: TRE_R42, CAPA: TRE_R43,
#: PAC: TRE_R44, FQ: TRE_R45, DEC: TRE_R97, OP: TRE_G13, SST: TRE_R359, CM: TRE_R394).
SAVOIR_FAIRE_BY_TYPE: dict[str, dict[str, str]] = {
    "S": _table(
        """
        SCD01 Orthopédie dento-faciale
        SCD02 Chirurgie orale
        SCD03 Médecine bucco-dentaire
        SI01 Infirmier en pratique avancée — pathologies chroniques stabilisées
        SI02 Infirmier en pratique avancée — oncologie et hémato-oncologie
        SI03 Infirmier en pratique avancée — maladie rénale chronique
        SI04 Infirmier en pratique avancée — psychiatrie et santé mentale
        SI05 Infirmier en pratique avancée — urgences
        SI06 Infirmier de bloc opératoire
        SI07 Infirmier anesthésiste
        SI08 Infirmier puériculteur
        SM01 Anatomie et cytologie pathologiques
        SM02 Anesthésie-réanimation
        SM03 Biologie médicale
        SM04 Cardiologie et maladies vasculaires
        SM05 Chirurgie générale
        SM06 Chirurgie maxillo-faciale
        SM07 Chirurgie maxillo-faciale et stomatologie
        SM08 Chirurgie orthopédique et traumatologie
        SM09 Chirurgie infantile
        SM10 Chirurgie plastique reconstructrice et esthétique
        SM11 Chirurgie thoracique et cardio-vasculaire
        SM12 Chirurgie urologique
        SM13 Chirurgie vasculaire
        SM14 Chirurgie viscérale et digestive
        SM15 Dermatologie et vénéréologie
        SM16 Endocrinologie et métabolisme
        SM17 Génétique médicale
        SM18 Gériatrie
        SM19 Gynécologie médicale
        SM20 Gynécologie-obstétrique
        SM21 Hématologie
        SM22 Hématologie, option maladie du sang
        SM23 Hématologie, option onco-hématologie
        SM24 Gastro-entérologie et hépatologie
        SM25 Médecine du travail
        SM26 Qualifié en médecine générale
        SM27 Médecine interne
        SM28 Médecine nucléaire
        SM29 Médecine physique et de réadaptation
        SM30 Néphrologie
        SM31 Neuro-chirurgie
        SM32 Neurologie
        SM33 Neuro-psychiatrie
        SM34 ORL et chirurgie cervico-faciale
        SM35 Oncologie, option onco-hématologie
        SM36 Oncologie, option médicale
        SM37 Oncologie, option radiothérapie
        SM38 Ophtalmologie
        SM39 Oto-rhino-laryngologie
        SM40 Pédiatrie
        SM41 Pneumologie
        SM42 Psychiatrie
        SM43 Psychiatrie, option enfant et adolescent
        SM44 Radio-diagnostic
        SM45 Radio-thérapie
        SM46 Médecine intensive-réanimation
        SM47 Recherche médicale
        SM48 Rhumatologie
        SM49 Santé publique et médecine sociale
        SM50 Stomatologie
        SM51 Gynéco-obstétrique et gynéco-médicale, option gynéco-obstétrique
        SM52 Gynéco-obstétrique et gynéco-médicale, option gynéco-médicale
        SM53 Spécialiste en médecine générale
        SM54 Médecine générale
        SM55 Radio-diagnostic et radio-thérapie
        SM56 Chirurgie orale
        SM57 Allergologie
        SM58 Maladies infectieuses et tropicales
        SM59 Médecine d'urgence
        SM60 Médecine légale et expertises médicales
        SM61 Médecine vasculaire
        SM62 Endocrinologie, diabétologie, nutrition
        SM63 Biologie médicale, option biologie générale
        SM64 Biologie médicale, option médecine moléculaire, génétique et pharmacologie
        SM65 Biologie médicale, option hématologie et immunologie
        SM66 Biologie médicale, option agents infectieux
        SM67 Biologie médicale, option biologie de la reproduction
        SM68 Chirurgie maxillo-faciale (réforme 2017)
        SM69 Chirurgie pédiatrique, option chirurgie viscérale pédiatrique
        SM70 Chirurgie pédiatrique, option orthopédie pédiatrique
        SM71 Hématologie (réforme 2017)
        SM72 Médecine interne et immunologie clinique
        SM73 Médecine cardiovasculaire
        SM74 Radiologie et imagerie médicale
        SM75 Santé publique
        SM76 Anesthésie-réanimation, option anesthésie pédiatrique
        SM77 Chirurgie maxillo-faciale, option orthodontie des dysmorphies maxillo-faciales
        SM78 Chirurgie viscérale et digestive, option endoscopie chirurgicale
        SM79 Médecine cardiovasculaire, option cardiologie interventionnelle
        SM80 Médecine cardiovasculaire, option imagerie cardiovasculaire d'expert
        SM81 Médecine cardiovasculaire, option rythmologie et stimulation cardiaque
        SM82 Médecine intensive-réanimation, option réanimation pédiatrique
        SM83 Néphrologie, option soins intensifs néphrologiques
        SM84 Neurologie, option traitement interventionnel de l'ischémie cérébrale aiguë
        SM85 Ophtalmologie, option chirurgie ophtalmopédiatrique et strabologique
        SM86 ORL et chirurgie cervico-faciale, option audiophonologie
        SM87 Pédiatrie, option néonatologie
        SM88 Pédiatrie, option neuropédiatrie
        SM89 Pédiatrie, option pneumopédiatrie
        SM90 Pédiatrie, option réanimation pédiatrique
        SM91 Pneumologie, option soins intensifs respiratoires
        SM92 Psychiatrie, option enfant et adolescent
        SM93 Psychiatrie, option psychiatrie de la personne âgée
        SM94 Radiologie et imagerie médicale, option radiologie interventionnelle avancée
        SM95 Santé publique, option administration de la santé
        """
    ),
    "C": _table(
        """
        C01 Anatomie et cytologie pathologiques humaines
        C03 Anesthésie-réanimation
        C05 Médecine appliquée aux sports
        C07 Cardiologie
        C09 Chirurgie plastique, reconstructrice et esthétique
        C10 Chirurgie maxillo-faciale
        C11 Chirurgie thoracique
        C12 Chirurgie orthopédique
        C13 Urologie
        C15 Dermato-vénéréologie
        C20 Hémobiologie
        C23 Gynécologie médicale et obstétrique
        C25 Gynécologie médicale
        C27 Obstétrique
        C29 Maladies de l'appareil digestif
        C30 Néphrologie
        C31 Médecine exotique
        C33 Allergologie
        C34 Angéiologie
        C35 Cancérologie
        C36 Diabétologie-nutrition
        C37 Endocrinologie
        C38 Maladies du sang
        C39 Réanimation
        C40 Médecine légale
        C41 Médecine du travail
        C43 Neurologie
        C45 Neuro-chirurgie
        C47 Neuro-psychiatrie
        C51 Pédiatrie
        C52 Phoniatrie
        C54 Pneumologie
        C57 Psychiatrie
        C58 Psychiatrie, option enfant et adolescent
        C60 Médecine physique et de réadaptation
        C62 Rhumatologie
        C68 Chirurgie pédiatrique
        C69 Médecine nucléaire
        C71 Médecine thermale
        C72 Génétique médicale
        C75 Endocrinologie et maladies métaboliques
        C76 Orthopédie dento-maxillo-faciale
        C83 Chirurgie de la face et du cou
        """
    ),
    "CEX": _table(
        """
        CEX22 Gynécologie médicale et obstétrique
        CEX24 Gynécologie médicale
        CEX26 Obstétrique
        CEX64 Urologie
        """
    ),
    "DNQ": _table(
        """
        DSM200 Addictologie
        DSM201 Allergologie et immunologie clinique
        DSM202 Andrologie
        DSM203 Biochimie hormonale et métabolique
        DSM204 Biologie des agents infectieux
        DSM205 Biologie moléculaire
        DSM206 Cancérologie
        DSM207 Chirurgie de la face et du cou
        DSM208 Chirurgie plastique et reconstructrice
        DSM209 Chirurgie vasculaire
        DSM210 Cytogénétique humaine
        DSM211 Dermatopathologie
        DSM212 Foetopathologie
        DSM213 Gériatrie
        DSM214 Hématologie biologique
        DSM215 Hématologie maladies du sang
        DSM216 Hémobiologie-transfusion
        DSM217 Immunologie et immunopathologie
        DSM218 Médecine de la reproduction
        DSM219 Médecine du sport
        DSM220 Médecine d'urgence
        DSM221 Médecine légale et expertises médicales
        DSM222 Médecine nucléaire
        DSM223 Médecine vasculaire
        DSM224 Néonatalogie
        DSM225 Neuropathologie
        DSM226 Nutrition
        DSM227 Orthopédie dento-maxillo-faciale
        DSM228 Pathologie infectieuse et tropicale, clinique et biologique
        DSM229 Pharmacocinétique et métabolisme des médicaments
        DSM230 Pharmacologie clinique et évaluation des thérapeutiques
        DSM231 Psychiatrie de l'enfant et de l'adolescent
        DSM232 Radiopharmacie et radiobiologie
        DSM233 Réanimation médicale
        DSM234 Toxicologie biologique
        DSM235 Médecine de la douleur et médecine palliative
        DSM236 Cancérologie, option traitements médicaux des cancers
        DSM237 Cancérologie, option chirurgie cancérologique
        DSM238 Cancérologie, option réseaux de cancérologie
        DSM239 Cancérologie, option biologie en cancérologie
        DSM240 Cancérologie, option imagerie en cancérologie
        """
    ),
    "CAPA": _table(
        """
        CAPA01 Addictologie clinique
        CAPA02 Aide médicale urgente
        CAPA03 Allergologie
        CAPA04 Angéiologie
        CAPA05 Évaluation et traitement de la douleur
        CAPA06 Gérontologie
        CAPA07 Hydrologie et climatologie médicales
        CAPA08 Médecine aérospatiale
        CAPA09 Médecine de catastrophe
        CAPA10 Médecine et biologie du sport
        CAPA11 Médecine de santé au travail et prévention des risques professionnels
        CAPA12 Médecine pénitentiaire
        CAPA13 Médecine tropicale
        CAPA14 Pratiques médico-judiciaires
        CAPA15 Technologie transfusionnelle
        CAPA16 Toxicomanies et alcoologie
        """
    ),
    "PAC": _table("PAC00 Qualification praticien adjoint contractuel"),
    "FQ": _table(
        """
        FQ01 Expérience pratique art. R.5124-16 du CSP, fabricant
        FQ02 Expérience pratique art. R.5124-16 du CSP, exploitant
        FQ03 Expérience pratique art. R.5124-16 du CSP, thérapie cellulaire
        FQ04 Expérience pratique art. R.5124-18 du CSP, pharmacie
        FQ05 Expérience pratique art. R.5141-129 du CSP, autovaccins
        """
    ),
    "DEC": _table(
        """
        DEC01 Addictologie
        DEC02 Allergologie et immunologie clinique
        DEC03 Andrologie
        DEC04 Cancérologie, option traitements médicaux des cancers
        DEC05 Cancérologie, option chirurgie cancérologique
        DEC06 Cancérologie, option réseaux de cancérologie
        DEC07 Cancérologie, option biologie en cancérologie
        DEC08 Cancérologie, option imagerie en cancérologie
        DEC09 Dermatopathologie
        DEC10 Foetopathologie
        DEC11 Hémobiologie et transfusion
        DEC12 Médecine de la douleur et médecine palliative
        DEC13 Médecine de la reproduction
        DEC14 Médecine d'urgence
        DEC15 Médecine du sport
        DEC16 Médecine légale et expertises médicales
        DEC17 Médecine vasculaire
        DEC18 Néonatologie
        DEC19 Neuropathologie
        DEC20 Nutrition
        DEC21 Orthopédie dento-maxillo-faciale
        DEC22 Pathologie infectieuse et tropicale, clinique et biologique
        DEC23 Pharmacologie clinique et évaluation des thérapeutiques
        DEC24 Psychiatrie de l'enfant et de l'adolescent
        """
    ),
    "OP": _table(
        """
        80 Homéopathie
        81 Acupuncture
        """
    ),
    "SST": _table(
        """
        SST01 Addictologie
        SST02 Bio-informatique médicale
        SST03 Cancérologie, déclinaison hémato-cancérologie pédiatrique
        SST04 Cancérologie, traitements médicaux des cancers
        SST05 Cardiologie pédiatrique et congénitale
        SST06 Chirurgie de la main
        SST07 Chirurgie en situation de guerre ou de catastrophe
        SST08 Chirurgie orbito-palpébro-lacrymale
        SST09 Douleur
        SST10 Expertise médicale — préjudice corporel
        SST11 Foetopathologie
        SST12 Génétique et médecine moléculaire bioclinique
        SST13 Hématologie bioclinique
        SST14 Hygiène — prévention de l'infection, résistances
        SST15 Maladies allergiques
        SST16 Médecine hospitalière polyvalente
        SST17 Médecine palliative
        SST18 Médecine scolaire
        SST19 Médecine en situation de guerre ou en situation sanitaire exceptionnelle
        SST20 Médecine et biologie de la reproduction — andrologie
        SST21 Médecine du sport
        SST22 Nutrition appliquée
        SST23 Pharmacologie médicale, thérapeutique
        SST24 Sommeil
        SST25 Thérapie cellulaire, transfusion
        SST26 Urgences pédiatriques
        SST27 Innovation et recherche en sciences biologiques et pharmaceutiques
        """
    ),
    "CM": _table("CM0001 Certificat de décès"),
}

#: Every savoir-faire code, whatever its type.
SAVOIR_FAIRE = {
    code: name for table in SAVOIR_FAIRE_BY_TYPE.values() for code, name in table.items()
}
