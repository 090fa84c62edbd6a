"""Request and response bodies of intake's API (separate Create and Public shapes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.intake.domain.registration import Category


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["济南城市建设集团有限公司"])
    credit_code: str = Field(
        description="统一社会信用代码: 18 characters with a valid check character",
        examples=["91110000600037341L"],
    )


class ProjectCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "长清区文昌街道老旧小区改造工程",
                    "category": "HOUSING",
                    "region_code": "370113",
                    "tenderer": {
                        "name": "济南市长清区住房和城乡建设局",
                        "credit_code": "91110000600037341L",
                    },
                    "budget_fen": 1_250_000_000,
                    "registering_department": "JYZX",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=300)
    category: Category
    region_code: str = Field(description="GB/T 2260 region code, e.g. 370113 长清区")
    tenderer: OrganisationIn
    budget_fen: int = Field(description="budget in integer fen (分)", strict=True)
    registering_department: str = Field(min_length=1, max_length=32)
    unified_deal_code: str | None = Field(
        default=None, description="统一交易标识码; assigned by intake when absent"
    )


class ProjectPublic(BaseModel):
    project_id: str
    unified_deal_code: str
    name: str
    category: Category
    region_code: str
    budget_fen: int
    registered_at: datetime
    event_id: str
