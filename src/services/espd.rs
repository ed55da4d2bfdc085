//! The DUME — the European Single Procurement Document (ESPD) — in the exchange data model
//! ESPD-EDM 4.1.0 (UBL 2.3). Each published tender offers its **request**
//! (`QualificationApplicationRequest`): the buyer, the lots, and the criteria the groupement
//! asks about — the exclusion grounds of articles L2141-1 to L2141-5 (the convictions, taxes
//! and social contributions, insolvency) and the selection by general yearly turnover and
//! average annual manpower. A company answers with the **simplified DUME**: its identity from
//! its profile, its turnover and headcount, the exclusion grounds sworn; the platform writes its
//! **response** (`QualificationApplicationResponse`). A company may instead upload the response
//! another tool wrote; the platform reads from it what it shows at the opening. Both documents
//! validate against the official schemas (tests/api/espd.rs).

use crate::error::AppError;
use chrono::{NaiveDate, NaiveDateTime};

/// The ESPD-EDM version written.
pub const EDM_VERSION: &str = "4.1.0";
/// The largest response file read.
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// A criterion the groupement asks about: its ESPD identifier and type code, its number in
/// the ESPD-EDM taxonomy (which names its properties: `C1_EG_crime-org/QG1/Q1`), and its words.
pub struct Criterion {
    pub uuid: &'static str,
    pub code: &'static str,
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub kind: Kind,
}

/// What a criterion asks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An exclusion ground: « are you in this case? » (yes or no).
    Exclusion,
    /// The general yearly turnover: an amount for a financial year.
    Turnover,
    /// The average annual manpower: a number of people for a year.
    Manpower,
    /// Whether the company is an SME.
    Sme,
}

/// The criteria of every request of the groupement.
pub const CRITERIA: [Criterion; 13] = [
    exclusion("005eb9ed-1347-4ca3-bb29-9bc0db64e1ab", "crime-org", "C1_EG_crime-org", "Participation à une organisation criminelle", "Condamnation définitive depuis moins de cinq ans pour participation à une organisation criminelle (article L2141-1)."),
    exclusion("c27b7c4e-c837-4529-b867-ed55ce639db5", "corruption", "C2_EG_corruption", "Corruption", "Condamnation définitive depuis moins de cinq ans pour corruption (article L2141-1)."),
    exclusion("297d2323-3ede-424e-94bc-a91561e6f320", "fraud", "C3_EG_fraud", "Fraude", "Condamnation définitive depuis moins de cinq ans pour fraude (article L2141-1)."),
    exclusion("d486fb70-86b3-4e75-97f2-0d71b5697c7d", "terr-offence", "C4_EG_terr-offence", "Infractions terroristes", "Condamnation définitive depuis moins de cinq ans pour infraction terroriste ou liée au terrorisme (article L2141-1)."),
    exclusion("47112079-6fec-47a3-988f-e561668c3aef", "finan-laund", "C5_EG_finan-laund", "Blanchiment de capitaux ou financement du terrorisme", "Condamnation définitive depuis moins de cinq ans pour blanchiment ou financement du terrorisme (article L2141-1)."),
    exclusion("d789d01a-fe03-4ccd-9898-73f9cfa080d1", "human-traffic", "C6_EG_human-traffic", "Travail des enfants et traite des êtres humains", "Condamnation définitive depuis moins de cinq ans pour travail des enfants ou traite des êtres humains (article L2141-1)."),
    exclusion("b61bbeb7-690e-4a40-bc68-d6d4ecfaa3d4", "tax-pay", "C7_EG_tax-pay", "Paiement des impôts et taxes", "Obligations fiscales non satisfaites au 31 décembre de l'année précédente (article L2141-2)."),
    exclusion("7d85e333-bbab-49c0-be8d-c36d71a72f5e", "socsec-pay", "C8_EG_socsec-pay", "Paiement des cotisations de sécurité sociale", "Obligations sociales non satisfaites au 31 décembre de l'année précédente (article L2141-2)."),
    exclusion("d3732c09-7d62-4edc-a172-241da6636e7c", "bankruptcy", "C12_EG_bankruptcy", "Liquidation judiciaire", "Procédure de liquidation judiciaire (article L2141-3)."),
    exclusion("396f288a-e267-4c20-851a-ed4f7498f137", "insolvency", "C13_EG_insolvency", "Redressement judiciaire sans habilitation", "Redressement judiciaire sans justification d'une habilitation à poursuivre l'activité pendant la durée du marché (article L2141-3)."),
    Criterion {
        uuid: "499efc97-2ac1-4af2-9e84-323c2ca67747",
        code: "gen-year-to",
        key: "C29_SC_gen-year-to",
        name: "Chiffre d'affaires annuel général",
        description: "Le chiffre d'affaires global du dernier exercice clos.",
        kind: Kind::Turnover,
    },
    Criterion {
        uuid: "1f49b3f0-d50f-43f6-8b30-4bafab108b9b",
        code: "year-manpower",
        key: "C50_SC_year-manpower",
        name: "Effectifs moyens annuels",
        description: "L'effectif moyen annuel du dernier exercice clos.",
        kind: Kind::Manpower,
    },
    Criterion {
        uuid: "C65_OT_sme",
        code: "sme",
        key: "C65_OT_sme",
        name: "Micro, petite ou moyenne entreprise",
        description: "L'opérateur économique est-il une micro, petite ou moyenne entreprise ?",
        kind: Kind::Sme,
    },
];

const fn exclusion(
    uuid: &'static str,
    code: &'static str,
    key: &'static str,
    name: &'static str,
    description: &'static str,
) -> Criterion {
    Criterion {
        uuid,
        code,
        key,
        name,
        description,
        kind: Kind::Exclusion,
    }
}

/// Text for XML: the five characters escaped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids are left out.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The buyer and the procedure, as both documents state them.
pub struct Procurement<'a> {
    pub reference: &'a str,
    pub title: &'a str,
    /// The tender's procedure code (`formal`, `adapted`, `no_competition`).
    pub procedure: &'a str,
    pub buyer_name: &'a str,
    pub buyer_siret: Option<&'a str>,
    pub contact: Option<(&'a str, &'a str)>,
    /// The lots' numbers.
    pub lots: Vec<i32>,
    pub issued_at: NaiveDateTime,
}

const SCHEME: &str = r#"schemeID="Criterion" schemeAgencyID="OP" schemeVersionID="4.1.0""#;

/// The header shared by the request and the response, up to the contracting party included.
fn header(out: &mut String, kind: &str, id: &str, uuid: &str, p: &Procurement<'_>) {
    let (local, _) = crate::domain::to_paris(p.issued_at);
    let offset = match crate::domain::to_paris(p.issued_at).1 {
        "CEST" => "+02:00",
        _ => "+01:00",
    };
    out.push_str(&format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<{kind} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{kind}-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:UBLVersionID schemeAgencyID="OASIS-UBL-TC">2.3</cbc:UBLVersionID>
  <cbc:ProfileExecutionID schemeAgencyID="OP" schemeVersionID="{EDM_VERSION}">ESPD-EDMv{EDM_VERSION}</cbc:ProfileExecutionID>
  <cbc:ID schemeAgencyID="GROUPEMENT">{id}</cbc:ID>
  <cbc:CopyIndicator>false</cbc:CopyIndicator>
  <cbc:UUID schemeID="ISO/IEC 9834-8:2008 - 4UUID" schemeAgencyID="GROUPEMENT" schemeVersionID="{EDM_VERSION}">{uuid}</cbc:UUID>
  <cbc:ContractFolderID schemeAgencyID="GROUPEMENT">{reference}</cbc:ContractFolderID>
  <cbc:IssueDate>{date}</cbc:IssueDate>
  <cbc:IssueTime>{time}{offset}</cbc:IssueTime>
  <cbc:VersionID schemeAgencyID="OP" schemeVersionID="{EDM_VERSION}">{EDM_VERSION}</cbc:VersionID>
  <cbc:ProcedureCode listID="http://publications.europa.eu/resource/authority/procurement-procedure-type" listAgencyID="OP" listVersionID="20250924-0">{procedure}</cbc:ProcedureCode>
  <cac:ContractingParty>
    <cac:Party>
"#,
        reference = xml(p.reference),
        date = local.format("%Y-%m-%d"),
        time = local.format("%H:%M:%S"),
        procedure = match p.procedure {
            "formal" => "open",
            "no_competition" => "neg-wo-call",
            _ => "oth-single",
        },
    ));
    if let Some(siret) = p.buyer_siret {
        out.push_str(&format!(
            "      <cac:PartyIdentification>\n        <cbc:ID schemeAgencyID=\"FR-SIRET\">{}</cbc:ID>\n      </cac:PartyIdentification>\n",
            xml(siret)
        ));
    }
    out.push_str(&format!(
        "      <cac:PartyName>\n        <cbc:Name>{}</cbc:Name>\n      </cac:PartyName>\n      <cac:PostalAddress>\n        <cbc:CityName>Dijon</cbc:CityName>\n        <cbc:PostalZone>21000</cbc:PostalZone>\n        <cac:Country>\n          <cbc:IdentificationCode listID=\"http://publications.europa.eu/resource/authority/country\" listAgencyID=\"OP\" listVersionID=\"20250924-0\">FRA</cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>\n",
        xml(p.buyer_name)
    ));
    if let Some((name, email)) = p.contact {
        out.push_str(&format!(
            "      <cac:Contact>\n        <cbc:Name>{}</cbc:Name>\n        <cbc:ElectronicMail>{}</cbc:ElectronicMail>\n      </cac:Contact>\n",
            xml(name),
            xml(email)
        ));
    }
    out.push_str("    </cac:Party>\n  </cac:ContractingParty>\n");
}

fn project(out: &mut String, p: &Procurement<'_>, lots: &[i32]) {
    out.push_str(&format!(
        "  <cac:ProcurementProject>\n    <cbc:Name>{}</cbc:Name>\n    <cbc:Description>{} ({})</cbc:Description>\n  </cac:ProcurementProject>\n",
        xml(p.title),
        xml(p.title),
        xml(p.reference)
    ));
    for lot in lots {
        out.push_str(&format!(
            "  <cac:ProcurementProjectLot>\n    <cbc:ID {SCHEME}>LOT-{lot:04}</cbc:ID>\n  </cac:ProcurementProjectLot>\n"
        ));
    }
}

/// The questions of a criterion: (property id, description, value type).
fn questions(c: &Criterion) -> Vec<(String, &'static str, &'static str)> {
    match c.kind {
        Kind::Exclusion => vec![(
            format!("{}/QG1/Q1", c.key),
            "Votre réponse ? (oui : vous êtes dans ce cas)",
            "INDICATOR",
        )],
        Kind::Turnover => vec![
            (
                format!("{}/RG1/RSG1/QSG2/Q1", c.key),
                "Début et fin de l'exercice",
                "PERIOD",
            ),
            (format!("{}/RG1/RSG1/QSG2/Q2", c.key), "Montant", "AMOUNT"),
        ],
        Kind::Manpower => vec![
            (
                format!("{}/RG1/RSG1/QSG1/Q1", c.key),
                "Année",
                "QUANTITY_YEAR",
            ),
            (
                format!("{}/RG1/RSG1/QSG1/Q2", c.key),
                "Nombre",
                "QUANTITY_INTEGER",
            ),
        ],
        Kind::Sme => vec![(
            format!("{}/QG1/Q1", c.key),
            "L'opérateur économique est-il une PME ?",
            "INDICATOR",
        )],
    }
}

fn criteria(out: &mut String) {
    for c in &CRITERIA {
        out.push_str(&format!(
            "  <cac:TenderingCriterion>\n    <cbc:ID {SCHEME}>{}</cbc:ID>\n    <cbc:CriterionTypeCode listID=\"http://publications.europa.eu/resource/authority/criterion\" listAgencyID=\"OP\" listVersionID=\"20240612-0\">{}</cbc:CriterionTypeCode>\n    <cbc:Name>{}</cbc:Name>\n    <cbc:Description>{}</cbc:Description>\n    <cac:TenderingCriterionPropertyGroup>\n      <cbc:ID {SCHEME}>{}/QG1</cbc:ID>\n      <cbc:PropertyGroupTypeCode listID=\"property-group-type\" listAgencyID=\"OP\" listVersionID=\"4.1.0\">ON*</cbc:PropertyGroupTypeCode>\n",
            c.uuid,
            c.code,
            xml(c.name),
            xml(c.description),
            c.key
        ));
        for (id, description, value_type) in questions(c) {
            out.push_str(&format!(
                "      <cac:TenderingCriterionProperty>\n        <cbc:ID {SCHEME}>{id}</cbc:ID>\n        <cbc:Description>{}</cbc:Description>\n        <cbc:TypeCode listID=\"criterion-element-type\" listAgencyID=\"OP\" listVersionID=\"4.1.0\">QUESTION</cbc:TypeCode>\n        <cbc:ValueDataTypeCode listID=\"response-data-type\" listAgencyID=\"OP\" listVersionID=\"4.1.0\">{value_type}</cbc:ValueDataTypeCode>\n      </cac:TenderingCriterionProperty>\n",
                xml(description)
            ));
        }
        out.push_str("    </cac:TenderingCriterionPropertyGroup>\n  </cac:TenderingCriterion>\n");
    }
}

/// A UUID (version 4) from the platform's random source.
fn uuid4() -> String {
    use rand_core::RngCore as _;
    let mut b = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut b);
    uuid_text(b)
}

/// Sixteen bytes written as a UUID of version 4 (its version and variant bits set).
pub fn uuid_text(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The ESPD request of a tender.
pub fn request(p: &Procurement<'_>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    header(
        &mut out,
        "QualificationApplicationRequest",
        &format!("ESPDREQ-{}", p.reference),
        &uuid4(),
        p,
    );
    project(&mut out, p, &p.lots);
    criteria(&mut out);
    out.push_str("</QualificationApplicationRequest>\n");
    out
}

/// What a company declares in its simplified DUME (or what was read from its response).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Declaration {
    pub company: String,
    pub siret: String,
    pub postcode: String,
    pub city: String,
    pub email: String,
    pub sme: bool,
    /// The last closed financial year and its turnover, in cents.
    pub turnover_year: Option<i32>,
    pub turnover_cents: Option<i64>,
    pub headcount: Option<i64>,
    /// The exclusion grounds the company says it is in (their ESPD codes); empty: sworn free of all.
    pub exclusions: Vec<String>,
}

/// The ESPD response of a company to a tender's request.
pub fn response(p: &Procurement<'_>, d: &Declaration, lots: &[i32]) -> String {
    let mut out = String::with_capacity(24 * 1024);
    header(
        &mut out,
        "QualificationApplicationResponse",
        &format!("ESPDRESP-{}-{}", p.reference, d.siret),
        &uuid4(),
        p,
    );
    out.push_str(&format!(
        "  <cac:EconomicOperatorParty>\n    <cac:Party>\n      <cbc:IndustryClassificationCode listID=\"http://publications.europa.eu/resource/authority/economic-operator-size\" listAgencyID=\"OP\" listVersionID=\"20250924-0\">{}</cbc:IndustryClassificationCode>\n      <cac:PartyIdentification>\n        <cbc:ID schemeAgencyID=\"FR-SIRET\">{}</cbc:ID>\n      </cac:PartyIdentification>\n      <cac:PartyName>\n        <cbc:Name>{}</cbc:Name>\n      </cac:PartyName>\n      <cac:PostalAddress>\n        <cbc:CityName>{}</cbc:CityName>\n        <cbc:PostalZone>{}</cbc:PostalZone>\n        <cac:Country>\n          <cbc:IdentificationCode listID=\"http://publications.europa.eu/resource/authority/country\" listAgencyID=\"OP\" listVersionID=\"20250924-0\">FRA</cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>\n      <cac:Contact>\n        <cbc:ElectronicMail>{}</cbc:ElectronicMail>\n      </cac:Contact>\n    </cac:Party>\n  </cac:EconomicOperatorParty>\n",
        if d.sme { "sme" } else { "large" },
        xml(&d.siret),
        xml(&d.company),
        xml(&d.city),
        xml(&d.postcode),
        xml(&d.email),
    ));
    project(&mut out, p, lots);
    criteria(&mut out);
    let answer = |out: &mut String, id: &str, value: &str| {
        out.push_str(&format!(
            "  <cac:TenderingCriterionResponse>\n    <cbc:ID {SCHEME}>{id}/R1</cbc:ID>\n    <cbc:ValidatedCriterionPropertyID {SCHEME}>{id}</cbc:ValidatedCriterionPropertyID>\n{value}  </cac:TenderingCriterionResponse>\n"
        ));
    };
    let value = |id: &str, inner: String| {
        format!("    <cac:ResponseValue>\n      <cbc:ID {SCHEME}>{id}/R1/RV</cbc:ID>\n      {inner}\n    </cac:ResponseValue>\n")
    };
    for c in &CRITERIA {
        let ids: Vec<String> = questions(c).into_iter().map(|(id, _, _)| id).collect();
        match c.kind {
            Kind::Exclusion => {
                let yes = d.exclusions.iter().any(|e| e == c.code);
                answer(
                    &mut out,
                    &ids[0],
                    &value(
                        &ids[0],
                        format!("<cbc:ResponseIndicator>{yes}</cbc:ResponseIndicator>"),
                    ),
                );
            }
            Kind::Sme => answer(
                &mut out,
                &ids[0],
                &value(
                    &ids[0],
                    format!("<cbc:ResponseIndicator>{}</cbc:ResponseIndicator>", d.sme),
                ),
            ),
            Kind::Turnover => {
                if let (Some(year), Some(cents)) = (d.turnover_year, d.turnover_cents) {
                    let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
                    let end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
                    answer(
                        &mut out,
                        &ids[0],
                        &format!("    <cac:ApplicablePeriod>\n      <cbc:StartDate>{start}</cbc:StartDate>\n      <cbc:EndDate>{end}</cbc:EndDate>\n    </cac:ApplicablePeriod>\n"),
                    );
                    answer(
                        &mut out,
                        &ids[1],
                        &value(
                            &ids[1],
                            format!(
                                "<cbc:ResponseAmount currencyID=\"EUR\">{}.{:02}</cbc:ResponseAmount>",
                                cents / 100,
                                cents % 100
                            ),
                        ),
                    );
                }
            }
            Kind::Manpower => {
                if let (Some(year), Some(count)) = (d.turnover_year, d.headcount) {
                    answer(
                        &mut out,
                        &ids[0],
                        &value(&ids[0], format!("<cbc:ResponseQuantity unitCode=\"ANN\">{year}</cbc:ResponseQuantity>")),
                    );
                    answer(
                        &mut out,
                        &ids[1],
                        &value(
                            &ids[1],
                            format!("<cbc:ResponseQuantity>{count}</cbc:ResponseQuantity>"),
                        ),
                    );
                }
            }
        }
    }
    out.push_str("</QualificationApplicationResponse>\n");
    out
}

/// Reads an ESPD response (from any tool of the model): who answers, the exclusion grounds it
/// says yes to, its turnover and headcount when given. Refused cheaply when too large, when
/// it declares a DTD (no entity is ever expanded), or when it is not a response.
pub fn read_response(bytes: &[u8]) -> Result<Declaration, AppError> {
    let bad = |message: String| AppError::validation("fichier", message);
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(bad(format!(
            "le fichier dépasse {} Mo : ce n'est pas une réponse DUME",
            MAX_RESPONSE_BYTES >> 20
        )));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| bad("le fichier n'est pas un XML en UTF-8".into()))?;
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(bad(
            "le fichier déclare une DTD ou des entités, ce qu'un DUME ne fait pas".into(),
        ));
    }
    let document = roxmltree::Document::parse(text).map_err(|e| {
        let at = e.pos();
        bad(format!(
            "XML illisible, ligne {}, colonne {} : {e}",
            at.row, at.col
        ))
    })?;
    let root = document.root_element();
    if root.tag_name().name() != "QualificationApplicationResponse" {
        return Err(bad(format!(
            "ce n'est pas une réponse DUME (élément racine « {} », attendu « QualificationApplicationResponse »)",
            root.tag_name().name()
        )));
    }
    fn child<'a, 'input>(
        node: roxmltree::Node<'a, 'input>,
        name: &str,
    ) -> Option<roxmltree::Node<'a, 'input>> {
        node.children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
    }
    fn text_of(node: Option<roxmltree::Node<'_, '_>>) -> String {
        node.and_then(|n| n.text())
            .unwrap_or_default()
            .trim()
            .to_string()
    }
    let mut d = Declaration::default();
    if let Some(party) = child(root, "EconomicOperatorParty").and_then(|e| child(e, "Party")) {
        d.company = text_of(child(party, "PartyName").and_then(|n| child(n, "Name")));
        d.siret = text_of(child(party, "PartyIdentification").and_then(|n| child(n, "ID")));
        d.sme = text_of(child(party, "IndustryClassificationCode")) == "sme";
        if let Some(address) = child(party, "PostalAddress") {
            d.city = text_of(child(address, "CityName"));
            d.postcode = text_of(child(address, "PostalZone"));
        }
        d.email = text_of(child(party, "Contact").and_then(|n| child(n, "ElectronicMail")));
    }
    if d.company.is_empty() {
        return Err(bad(
            "la réponse DUME ne nomme pas l'opérateur économique (EconomicOperatorParty)".into(),
        ));
    }
    for response in root
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "TenderingCriterionResponse")
    {
        let property = text_of(child(response, "ValidatedCriterionPropertyID"));
        let value = child(response, "ResponseValue");
        let indicator = text_of(value.and_then(|v| child(v, "ResponseIndicator")));
        let Some(criterion) = CRITERIA
            .iter()
            .find(|c| property.starts_with(&format!("{}/", c.key)))
        else {
            continue;
        };
        match criterion.kind {
            // (The first question of an exclusion ground is « are you in this case? ».)
            Kind::Exclusion if property.ends_with("/QG1/Q1") && indicator == "true" => {
                d.exclusions.push(criterion.code.to_string());
            }
            Kind::Turnover => {
                let amount = text_of(value.and_then(|v| child(v, "ResponseAmount")));
                if let Some(cents) = euros_to_cents(&amount) {
                    d.turnover_cents = Some(cents);
                }
                if let Some(period) = child(response, "ApplicablePeriod") {
                    let end = text_of(child(period, "EndDate"));
                    d.turnover_year = end.get(..4).and_then(|y| y.parse().ok());
                }
            }
            Kind::Manpower => {
                let quantity = value.and_then(|v| child(v, "ResponseQuantity"));
                let number = text_of(quantity).parse::<f64>().ok();
                match quantity.and_then(|q| q.attribute("unitCode")) {
                    Some("ANN") => {
                        if d.turnover_year.is_none() {
                            d.turnover_year = number.map(|n| n as i32);
                        }
                    }
                    _ => d.headcount = number.map(|n| n as i64),
                }
            }
            Kind::Sme if indicator == "true" => d.sme = true,
            _ => {}
        }
    }
    Ok(d)
}

/// `12345.6` → 1 234 560 cents.
fn euros_to_cents(text: &str) -> Option<i64> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && (0.0..1e15).contains(&value)).then(|| (value * 100.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn procurement() -> Procurement<'static> {
        Procurement {
            reference: "GRP-2027-004",
            title: "Papier & enveloppes <A4>",
            procedure: "formal",
            buyer_name: "Dijon Métropole",
            buyer_siret: Some("24210041000123"),
            contact: Some(("Camille Martin", "achats@metropole-dijon.fr")),
            lots: vec![1, 2],
            issued_at: chrono::NaiveDate::from_ymd_opt(2027, 1, 5)
                .unwrap()
                .and_hms_opt(9, 30, 0)
                .unwrap(),
        }
    }

    #[test]
    fn a_response_written_is_read_back_the_same() {
        let declaration = Declaration {
            company: "Menuiserie Dupont & Fils".into(),
            siret: "73282932000074".into(),
            postcode: "21000".into(),
            city: "Dijon".into(),
            email: "contact@dupont.fr".into(),
            sme: true,
            turnover_year: Some(2025),
            turnover_cents: Some(123_456_789),
            headcount: Some(12),
            exclusions: vec!["tax-pay".into()],
        };
        let xml = response(&procurement(), &declaration, &[2]);
        assert!(xml.contains("Papier &amp; enveloppes &lt;A4&gt;"));
        assert_eq!(read_response(xml.as_bytes()).unwrap(), declaration);
    }

    #[test]
    fn hostile_or_foreign_files_are_refused_with_a_reason() {
        let entity = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#;
        let AppError::Validation(problems) = read_response(entity).unwrap_err() else {
            panic!()
        };
        assert!(problems.iter().any(|p| p.message.contains("DTD")));
        let request = request(&procurement());
        let refused = read_response(request.as_bytes()).unwrap_err();
        let AppError::Validation(problems) = refused else {
            panic!()
        };
        assert!(problems
            .iter()
            .any(|p| p.message.contains("QualificationApplicationRequest")));
        let broken = read_response(b"<QualificationApplicationResponse><a></b>").unwrap_err();
        let AppError::Validation(problems) = broken else {
            panic!()
        };
        assert!(problems.iter().any(|p| p.message.contains("ligne 1")));
        assert!(read_response(&vec![b' '; MAX_RESPONSE_BYTES + 1]).is_err());
    }
}

// --- On the platform: the request of a published tender, the company's response, the opening.

use crate::auth::Actor;
use crate::db::schema::{espd_responses, lots, organisations, suppliers, tenders, users};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::TenderStatus;
use diesel::prelude::*;

/// What the request of a tender states, read from the database (a published tender only).
fn procurement_of(
    conn: &mut AnyConnection,
    reference: &str,
) -> Result<(i32, Option<NaiveDateTime>, OwnedProcurement), AppError> {
    let (id, title, procedure, coordinator, deadline, published_at): (
        i32,
        String,
        String,
        i32,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    ) = tenders::table
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .select((
            tenders::id,
            tenders::title,
            tenders::procedure,
            tenders::coordinator_id,
            tenders::deadline,
            tenders::published_at,
        ))
        .first(conn)?;
    let (buyer_name, buyer_siret): (String, Option<String>) = organisations::table
        .find(coordinator)
        .select((organisations::name, organisations::siret))
        .first(conn)?;
    let contact: Option<(String, String)> = users::table
        .filter(users::organisation_id.eq(coordinator))
        .filter(users::role.eq("lead"))
        .filter(users::active.eq(true))
        .order(users::id)
        .select((users::display_name, users::email))
        .first(conn)
        .optional()?;
    let lots: Vec<i32> = lots::table
        .filter(lots::tender_id.eq(id))
        .order(lots::number)
        .select(lots::number)
        .load(conn)?;
    Ok((
        id,
        deadline,
        OwnedProcurement {
            reference: reference.to_string(),
            title,
            procedure,
            buyer_name,
            buyer_siret,
            contact,
            lots,
            issued_at: published_at.unwrap_or_else(|| chrono::Utc::now().naive_utc()),
        },
    ))
}

/// [`Procurement`] with its own strings.
struct OwnedProcurement {
    reference: String,
    title: String,
    procedure: String,
    buyer_name: String,
    buyer_siret: Option<String>,
    contact: Option<(String, String)>,
    lots: Vec<i32>,
    issued_at: NaiveDateTime,
}

impl OwnedProcurement {
    fn view(&self) -> Procurement<'_> {
        Procurement {
            reference: &self.reference,
            title: &self.title,
            procedure: &self.procedure,
            buyer_name: &self.buyer_name,
            buyer_siret: self.buyer_siret.as_deref(),
            contact: self.contact.as_ref().map(|(n, e)| (n.as_str(), e.as_str())),
            lots: self.lots.clone(),
            issued_at: self.issued_at,
        }
    }
}

/// The DUME request of a published tender, for anyone: (file name, XML).
pub fn tender_request(pool: &Pool, reference: &str) -> Result<(String, String), AppError> {
    let mut conn = pool.get()?;
    let (_, _, p) = procurement_of(&mut conn, reference)?;
    Ok((format!("{reference}-DUME-demande.xml"), request(&p.view())))
}

/// The simplified DUME's form: what the profile does not say.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub struct DumeForm {
    /// The last closed financial year (`2025`).
    #[serde(default)]
    pub year: String,
    /// Its turnover, in euros.
    #[serde(default)]
    pub turnover_eur: String,
    /// The average headcount that year.
    #[serde(default)]
    pub headcount: String,
    /// The sworn statement that no exclusion ground applies (`on` when ticked).
    #[serde(default)]
    pub sworn: String,
}

/// The company's own DUME on a tender, if any: its summary, source and time.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredDume {
    pub company: String,
    pub source: String,
    pub received_at: NaiveDateTime,
    /// None while sealed, or when its ciphertext no longer matched its receipt at the opening.
    pub declaration: Option<Declaration>,
    /// `sealed`, `opened`, `tampered`; none on a tender published before sealing.
    pub seal_state: Option<String>,
}

/// The tender a company answers: published and before its deadline.
fn open_for(
    conn: &mut AnyConnection,
    reference: &str,
) -> Result<(i32, NaiveDateTime, OwnedProcurement), AppError> {
    let (id, deadline, p) = procurement_of(conn, reference)?;
    let status: String = tenders::table
        .find(id)
        .select(tenders::status)
        .first(conn)?;
    let now = chrono::Utc::now().naive_utc();
    if status != TenderStatus::Published.code() || deadline.is_none_or(|d| now >= d) {
        return Err(AppError::Conflict(
            "la date limite est passée : le DUME se remet avec l'offre, avant elle".into(),
        ));
    }
    let deadline =
        deadline.ok_or_else(|| AppError::internal(format!("{reference} has no deadline")))?;
    Ok((id, deadline, p))
}

/// Keeps a company's DUME (the one before replaced) with a receipt signed by the platform: the
/// exact time and the SHA-256 of the XML kept (lot 0: the whole tender). Like a deposit, it
/// shows in the tender's journal once the bids are opened.
/// A DUME as sealed: its XML and the summary read from it.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedDume {
    pub xml: String,
    pub summary: String,
}

fn store(
    conn: &mut AnyConnection,
    (tender_id, supplier_id, reference, deadline): (i32, i32, &str, NaiveDateTime),
    source: &str,
    xml: &str,
    declaration: &Declaration,
) -> Result<(), AppError> {
    let now = chrono::Utc::now().naive_utc();
    let summary = serde_json::to_string(declaration).map_err(AppError::internal)?;
    // Sealed with the bids: the XML and its summary encrypted to the tender's key.
    let key = crate::services::tenders::recipient_of(conn, tender_id)?;
    let (kept_xml, kept_summary, sealed, sealed_sha256, seal_state) = match &key {
        Some(key) => {
            let clear = zeroize::Zeroizing::new(
                serde_json::to_vec(&SealedDume {
                    xml: xml.to_string(),
                    summary: summary.clone(),
                })
                .map_err(AppError::internal)?,
            );
            let sealed = crate::services::seal::encrypt(std::slice::from_ref(key), &clear)
                .map_err(AppError::internal)?;
            let digest = crate::services::receipts::sha256_hex(&sealed);
            (
                String::new(),
                String::new(),
                Some(sealed),
                Some(digest),
                Some("sealed"),
            )
        }
        None => (xml.to_string(), summary.clone(), None, None, None),
    };
    diesel::delete(
        espd_responses::table
            .filter(espd_responses::tender_id.eq(tender_id))
            .filter(espd_responses::supplier_id.eq(supplier_id)),
    )
    .execute(conn)?;
    diesel::insert_into(espd_responses::table)
        .values((
            espd_responses::tender_id.eq(tender_id),
            espd_responses::supplier_id.eq(supplier_id),
            espd_responses::source.eq(source),
            espd_responses::xml.eq(kept_xml),
            espd_responses::summary.eq(kept_summary),
            espd_responses::received_at.eq(now),
            espd_responses::sealed.eq(sealed),
            espd_responses::sealed_sha256.eq(&sealed_sha256),
            espd_responses::seal_state.eq(seal_state),
        ))
        .execute(conn)?;
    let number = crate::services::bids::receipt_number();
    crate::services::receipts::issue(
        conn,
        crate::services::receipts::Deposit {
            supplier_id,
            tender_id: Some(tender_id),
            reference,
            lot: 0,
            number: &number,
            event: "dume",
            received_at: now,
            deadline,
            late: false,
            form_sha256: None,
            sealed_sha256: None,
            documents: vec![crate::services::receipts::DocumentHash {
                name: format!("{reference}-DUME-reponse.xml"),
                size_bytes: xml.len() as i64,
                sha256: crate::services::receipts::sha256_hex(xml.as_bytes()),
                sealed_sha256,
            }],
        },
    )?;
    Ok(())
}

/// The company's profile, as its DUME states it.
fn declaration_of(conn: &mut AnyConnection, supplier_id: i32) -> Result<Declaration, AppError> {
    let (company, siret, postcode, city, email, sme) =
        crate::services::suppliers::identity(conn, supplier_id)?;
    Ok(Declaration {
        company,
        siret,
        postcode,
        city,
        email,
        sme,
        ..Declaration::default()
    })
}

/// A company fills its simplified DUME: identity from its profile, the last closed year's
/// turnover and headcount, the exclusion grounds sworn; the platform writes the response.
pub fn submit_form(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    form: &DumeForm,
) -> Result<(), AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut problems = crate::error::Problems::default();
    let this_year = chrono::Utc::now()
        .naive_utc()
        .date()
        .format("%Y")
        .to_string();
    let this_year: i32 = this_year.parse().unwrap_or(2026);
    let year = problems.check(
        "exercice",
        form.year
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (this_year - 5..this_year).contains(y))
            .ok_or_else(|| {
                format!(
                    "l'année d'un exercice clos, de {} à {}",
                    this_year - 5,
                    this_year - 1
                )
            }),
    );
    let turnover = problems.check(
        "chiffre d'affaires",
        crate::domain::Cents::parse_euros(&form.turnover_eur).map_err(|e| e.0),
    );
    let headcount = problems.check(
        "effectif",
        form.headcount
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=1_000_000).contains(n))
            .ok_or_else(|| "un nombre de personnes, de 0 à 1 000 000".to_string()),
    );
    if form.sworn.trim().is_empty() {
        problems.add(
            "déclaration sur l'honneur",
            "cochez la déclaration : sans elle, le DUME n'est pas complet",
        );
    }
    problems.finish()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (tender_id, deadline, p) = open_for(conn, reference)?;
        let mut declaration = declaration_of(conn, supplier_id)?;
        declaration.turnover_year = year;
        declaration.turnover_cents = turnover.map(|c| c.get());
        declaration.headcount = headcount;
        let xml = response(&p.view(), &declaration, &p.lots);
        store(
            conn,
            (tender_id, supplier_id, reference, deadline),
            "formulaire",
            &xml,
            &declaration,
        )
    })
}

/// A company uploads the ESPD response another tool wrote: read, checked to be its own (its
/// SIRET), kept as sent.
pub fn submit_file(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    bytes: &[u8],
) -> Result<(), AppError> {
    let supplier_id = actor.require_supplier()?;
    let declaration = read_response(bytes)?;
    let xml = String::from_utf8_lossy(bytes).into_owned();
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (tender_id, deadline, _) = open_for(conn, reference)?;
        let own = declaration_of(conn, supplier_id)?;
        if declaration.siret.replace(' ', "") != own.siret {
            return Err(AppError::validation(
                "fichier",
                format!(
                    "ce DUME est celui de « {} » (identifiant « {} »), pas de votre entreprise (SIRET {})",
                    declaration.company, declaration.siret, own.siret
                ),
            ));
        }
        store(
            conn,
            (tender_id, supplier_id, reference, deadline),
            "fichier",
            &xml,
            &declaration,
        )
    })
}

fn stored(
    conn: &mut AnyConnection,
    tender_id: i32,
    supplier: Option<i32>,
) -> Result<Vec<(i32, StoredDume)>, AppError> {
    let mut query = espd_responses::table
        .inner_join(suppliers::table)
        .filter(espd_responses::tender_id.eq(tender_id))
        .into_boxed();
    if let Some(s) = supplier {
        query = query.filter(espd_responses::supplier_id.eq(s));
    }
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i32, String, String, String, NaiveDateTime, Option<String>)> = query
        .order(suppliers::name)
        .select((
            espd_responses::supplier_id,
            suppliers::name,
            espd_responses::source,
            espd_responses::summary,
            espd_responses::received_at,
            espd_responses::seal_state,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(supplier_id, company, source, summary, received_at, seal_state)| {
                let readable = matches!(seal_state.as_deref(), None | Some("opened"));
                Ok((
                    supplier_id,
                    StoredDume {
                        company,
                        source,
                        received_at,
                        declaration: match readable {
                            true => {
                                Some(serde_json::from_str(&summary).map_err(AppError::internal)?)
                            }
                            false => None,
                        },
                        seal_state,
                    },
                ))
            },
        )
        .collect()
}

/// The company's own DUME on a tender.
pub fn own(
    conn: &mut AnyConnection,
    tender_id: i32,
    supplier_id: i32,
) -> Result<Option<StoredDume>, AppError> {
    Ok(stored(conn, tender_id, Some(supplier_id))?
        .pop()
        .map(|(_, d)| d))
}

/// The company's own DUME as the XML it gave: (file name, XML).
pub fn own_xml(pool: &Pool, actor: &Actor, reference: &str) -> Result<(String, String), AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    let (xml, seal_state): (String, Option<String>) = espd_responses::table
        .inner_join(tenders::table)
        .filter(tenders::reference.eq(reference))
        .filter(espd_responses::supplier_id.eq(supplier_id))
        .select((espd_responses::xml, espd_responses::seal_state))
        .first(&mut conn)?;
    if seal_state.as_deref() == Some("sealed") {
        return Err(AppError::Conflict(
            "votre DUME est chiffré jusqu'à l'ouverture des plis : personne, pas même la \
             plateforme, ne peut le relire d'ici là ; son empreinte figure sur votre accusé de \
             réception"
                .into(),
        ));
    }
    Ok((format!("{reference}-DUME-reponse.xml"), xml))
}

/// The DUMEs of a tender, under the seal of its bids: its coordinator's lead, once opened.
pub fn opened(
    conn: &mut AnyConnection,
    actor: &Actor,
    reference: &str,
) -> Result<Vec<(i32, StoredDume)>, AppError> {
    let tender_id = crate::services::bids::opened_tender_id(conn, actor, reference)?;
    stored(conn, tender_id, None)
}

/// One company's DUME XML, under the same seal: (file name, XML).
pub fn opened_xml(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    supplier_id: i32,
) -> Result<(String, String), AppError> {
    let mut conn = pool.get()?;
    let reference: String = tenders::table
        .find(tender_id)
        .select(tenders::reference)
        .first(&mut conn)?;
    let reference = reference.as_str();
    let tender_id = crate::services::bids::opened_tender_id(&mut conn, actor, reference)?;
    let (xml, seal_state): (String, Option<String>) = espd_responses::table
        .filter(espd_responses::tender_id.eq(tender_id))
        .filter(espd_responses::supplier_id.eq(supplier_id))
        .select((espd_responses::xml, espd_responses::seal_state))
        .first(&mut conn)?;
    if seal_state.as_deref() == Some("tampered") {
        return Err(AppError::Conflict(
            "ce DUME a été altéré : son contenu chiffré ne correspond plus à son accusé de \
             réception ; il n'a pas été ouvert"
                .into(),
        ));
    }
    Ok((format!("{reference}-DUME-{supplier_id}.xml"), xml))
}
